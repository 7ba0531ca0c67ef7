"use client";

import AppShell from "@/components/AppShell";
import SettingsForm from "@/components/SettingsForm";

export default function SettingsPage() {
  return (
    <AppShell>
      <SettingsForm />
    </AppShell>
  );
}
