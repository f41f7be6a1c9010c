// What code in this frame cannot reach: the site's storage and cookies, the page around it, and
// any server but this site's own WebSocket endpoints. Each attempt prints what happened.
const attempts = {
  'localStorage': () => localStorage.getItem('socket-mastery:anything'),
  'document.cookie': () => document.cookie,
  'the page around this frame': () => parent.document.title,
};
for (const [what, attempt] of Object.entries(attempts)) {
  try {
    console.log(`${what}: read ${JSON.stringify(attempt())}`);
  } catch (err) {
    console.log(`${what}: refused (${err.name}: ${err.message})`);
  }
}

// Another host or port is outside the frame's Content-Security-Policy: the browser blocks it
const elsewhere = new WebSocket('ws://127.0.0.1:9/');
elsewhere.addEventListener('error', () => console.log('ws://127.0.0.1:9/: the connection failed'));
