import AuthForm from "@/components/AuthForm";

export const metadata = { title: "Create your account · todo" };

export default function SignUpPage() {
  return <AuthForm mode="signup" />;
}
