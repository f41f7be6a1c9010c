// Starlight lets a wide table scroll sideways (display: block; overflow: auto). A region that
// scrolls must be reachable from the keyboard to be read there (axe: scrollable-region-focusable),
// so every table in lessons and exercise instructions gets tabindex="0".

/** @param {any} node */
function visit(node) {
  if (node.type === 'element' && node.tagName === 'table') {
    node.properties = { ...node.properties, tabIndex: 0 };
  }
  for (const child of node.children ?? []) visit(child);
}

export default function rehypeScrollableTables() {
  return (/** @type {any} */ tree) => visit(tree);
}
