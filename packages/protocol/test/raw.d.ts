// Vite's `?raw` imports, which the tests use to read this package's README and entry sources as text.
declare module '*?raw' {
  const text: string
  export default text
}
