/** A small, dependency-free page shell shared by deligo's admin pages. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · deligo</title>
<style>
  body { font: 15px/1.5 system-ui, -apple-system, "Apple SD Gothic Neo", sans-serif; margin: 0; background: #f6f7f9; color: #1d2129; }
  main { max-width: 28rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 12px; box-shadow: 0 2px 12px rgba(0,0,0,.06); }
  h1 { font-size: 1.3rem; margin-top: 0; }
  textarea { width: 100%; box-sizing: border-box; min-height: 7rem; font: 12px ui-monospace, monospace; }
  button { margin-top: .8rem; padding: .5rem 1.2rem; border: 0; border-radius: 6px; background: #2ac1bc; color: #fff; font-weight: 600; cursor: pointer; }
  .error { color: #c0392b; }
  code { background: #eef0f3; padding: 0 .3em; border-radius: 4px; }
</style>
</head>
<body><main><h1>${title}</h1>${body}</main></body>
</html>`;
}
