// The benchmark's ceiling (issue 17): bare Express parsing the same JSON bodies as the service and
// answering 202, nothing else; the app settings the service uses (no x-powered-by, no ETag). Plain
// JavaScript, so it loads the way the compiled service does (npm start), without type stripping.
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.post('/webhooks/didomi', express.json({ limit: 512 * 1024, strict: true }), (req, res) => {
  res.status(202).json({ status: 'accepted', duplicate: false });
});
const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  console.log(JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${port}` }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
