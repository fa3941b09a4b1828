// The Live tab: camera → JPEG frames over a WebSocket → boxes, track ids and dominant emotion
// drawn over the video. At most two frames are in flight; the server keeps only the newest.
import { apiToken, drawFaces } from './app.js';

const FRAME_WIDTH = 640;
const IN_FLIGHT = 2;
const video = document.getElementById('live-video');
const overlay = document.getElementById('live-canvas');
const fpsOut = document.getElementById('live-fps');
const status = document.getElementById('live-status');
const start = document.getElementById('live-start');
const stop = document.getElementById('live-stop');
const grab = document.createElement('canvas');

/** What the page has drawn, for people and for the browser test. */
const stats = { frames: 0, fps: 0, faces: [], running: false };
window.visageLive = stats;

let socket = null;
let stream = null;
let inFlight = 0;
let drawn = [];

function colour(id) {
  return ['#ff00ff', '#00c8ff', '#ffc800', '#00e65a', '#ff5a3c', '#966eff', '#ffffff', '#008cff'][(id - 1) % 8];
}

function sendFrame() {
  if (!socket || socket.readyState !== WebSocket.OPEN || inFlight >= IN_FLIGHT || video.videoWidth === 0) return;
  const scale = Math.min(1, FRAME_WIDTH / video.videoWidth);
  grab.width = Math.round(video.videoWidth * scale);
  grab.height = Math.round(video.videoHeight * scale);
  grab.getContext('2d').drawImage(video, 0, 0, grab.width, grab.height);
  inFlight++;
  grab.toBlob((blob) => (blob && socket?.readyState === WebSocket.OPEN ? socket.send(blob) : inFlight--), 'image/jpeg', 0.8);
}

function onResult(result) {
  inFlight = Math.max(0, inFlight - 1);
  const now = performance.now();
  drawn.push(now);
  drawn = drawn.filter((t) => now - t < 2000);
  stats.frames++;
  stats.fps = drawn.length > 1 ? ((drawn.length - 1) * 1000) / (now - drawn[0]) : 0;
  stats.faces = result.faces;
  fpsOut.textContent = `${stats.fps.toFixed(1)} fps`;
  // Boxes are in the sent frame's pixels; the overlay is stretched over the video like the frame.
  drawFaces(overlay, result.width, result.height, result.faces.map((f) => ({ box: f.box, colour: colour(f.trackId), label: `#${f.trackId}${f.dominantEmotion ? ` ${f.dominantEmotion}` : ''}` })));
  sendFrame();
}

async function begin() {
  start.disabled = true;
  status.textContent = 'Starting the camera…';
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (err) {
    status.textContent = `No camera: ${err.message}`;
    start.disabled = false;
    return;
  }
  video.srcObject = stream;
  await video.play();
  const detector = document.getElementById('live-detector').value;
  const url = new URL(`/api/live?detector=${encodeURIComponent(detector)}&actions=emotion`, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  socket = new WebSocket(url);
  socket.addEventListener('open', () => {
    const token = apiToken();
    if (token) socket.send(JSON.stringify({ token }));
  });
  socket.addEventListener('message', (e) => {
    const message = JSON.parse(e.data);
    if (message.error) status.textContent = `Server: ${message.error}`;
    else if (message.ready) {
      status.textContent = 'Live.';
      stats.running = true;
      for (let i = 0; i < IN_FLIGHT; i++) sendFrame();
    } else onResult(message);
  });
  socket.addEventListener('close', (e) => {
    if (stats.running || e.code !== 1000) status.textContent = `Stopped${e.reason ? `: ${e.reason}` : ''}.`;
    end();
  });
  stop.disabled = false;
}

function end() {
  stats.running = false;
  socket?.close(1000);
  socket = null;
  inFlight = 0;
  for (const track of stream?.getTracks() ?? []) track.stop();
  stream = null;
  video.srcObject = null;
  start.disabled = false;
  stop.disabled = true;
}

start.addEventListener('click', begin);
stop.addEventListener('click', end);
