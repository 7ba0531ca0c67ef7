import Link from "next/link";

export default function NotFound() {
  return (
    <main className="auth" id="content">
      <div className="panel">
        <h1>Page not found</h1>
        <p>
          <Link href="/">Go to your tasks</Link>
        </p>
      </div>
    </main>
  );
}
