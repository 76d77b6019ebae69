// The dashboard's static files are imported as text (`with { type: "text" }`). Bun's own types cover *.html.
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "*.svg" {
  const text: string;
  export default text;
}
