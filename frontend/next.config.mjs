// A static export: `todo-host up` serves `out/` (copied to build/web) on
// the API's own origin, so the app needs no server of its own and no CORS.
// trailingSlash: every route is a folder with index.html, which a plain
// file server answers without rewrites.
/** @type {import('next').NextConfig} */
const nextConfig = {
  output: "export",
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
