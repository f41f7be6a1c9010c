// Lesson sections are the folders lessons/NN-name/. Their labels, shared by the sidebar
// (astro.config.mjs) and the course overview page.

/** @type {Record<string, string>} */
export const SECTION_LABELS = {
  '01-introduction': 'Introduction',
  '02-understanding-sockets': 'Understanding Sockets',
  '03-tcp-sockets': 'TCP Sockets',
  '04-websockets': 'WebSockets',
  '05-socket-io': 'Socket.IO',
};

/** "04-web-sockets" → "Web Sockets" unless it has a label above. */
export function sectionLabel(/** @type {string} */ dir) {
  return (
    SECTION_LABELS[dir] ??
    dir
      .replace(/^\d+-/, '')
      .split('-')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join(' ')
  );
}
