// An echo page: the browser's own WebSocket talks to the course's shared echo server, and every
// message that comes back is added to a list. liveUrl('wsEcho') is ws://<this site>/live/wsEcho
// (wss:// on an https site); on a page of your own you would build it from location.host.
const socket = new WebSocket(liveUrl('wsEcho'));

const input = document.createElement('input');
input.setAttribute('aria-label', 'Message');
input.value = 'Hello <img src=x onerror=alert(1)> & welcome';
const send = document.createElement('button');
send.textContent = 'Send';
const list = document.createElement('ul');
document.body.append(input, send, list);

/** Adds a line to the page as text: markup in it is shown, never run. */
function show(text) {
  const item = document.createElement('li');
  item.textContent = text;
  list.append(item);
}

socket.addEventListener('open', () => {
  console.log('connected to', socket.url);
  socket.send(input.value);
});

socket.addEventListener('message', (event) => {
  // text frames arrive as strings; binary ones as a Blob (or an ArrayBuffer with binaryType)
  console.log('echo:', event.data);
  show(event.data);
});

// 'error' tells you nothing more than that it failed; 'close' always follows, with the code
socket.addEventListener('error', () => console.error('the connection failed'));
socket.addEventListener('close', (event) => {
  console.log(`closed with code ${event.code}${event.reason ? `, reason "${event.reason}"` : ''}`);
  send.disabled = true;
});

function sendInput() {
  if (socket.readyState !== WebSocket.OPEN || input.value === '') return;
  socket.send(input.value);
  input.value = '';
}
send.addEventListener('click', sendInput);
input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter') sendInput();
});
