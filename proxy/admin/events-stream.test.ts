// GET /admin/api/events on a real gateway: request:start and a trimmed request:end arrive as
// SSE, alerts too, heartbeats keep a quiet stream alive, and shutdown ends the stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { authHeaders, rawRequest, until } from '../../test/helpers.js';
import { startAdminStack } from '../../test/ui/admin-stack.js';

interface Sse { event: string; data: string }

function openStream(url: string, token: string): Promise<{ res: IncomingMessage; next(pred: (e: Sse) => boolean, ms?: number): Promise<Sse>; raw(): string; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, agent: false }, (res) => {
      let buf = '';
      let all = '';
      const events: Sse[] = [];
      const waiters: { pred: (e: Sse) => boolean; done: (e: Sse) => void }[] = [];
      const ended = new Promise<void>((r) => { res.on('end', () => r()); res.on('close', () => r()); });
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        all += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data !== undefined) {
            const e = { event: ev, data };
            events.push(e);
            for (const w of [...waiters]) if (w.pred(e)) { waiters.splice(waiters.indexOf(w), 1); w.done(e); }
          }
        }
      });
      resolve({
        res,
        raw: () => all,
        ended,
        next: (pred, ms = 5000) => new Promise((done, fail) => {
          const hit = events.find(pred);
          if (hit) return done(hit);
          const t = setTimeout(() => fail(new Error(`no matching event within ${ms} ms; got ${all}`)), ms);
          waiters.push({ pred, done: (e) => { clearTimeout(t); done(e); } });
        }),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test('request events, alerts and heartbeats arrive; shutdown ends the stream', async () => {
  const s = await startAdminStack({ admin: { heartbeatMs: 50 } });
  let closed = false;
  try {
    const stream = await openStream(`${s.gw.url}/admin/api/events`, s.admin.adminToken);
    assert.equal(stream.res.statusCode, 200);
    assert.match(String(stream.res.headers['content-type']), /^text\/event-stream/);
    const r = await rawRequest(`${s.gw.url}/v1/messages`, {
      method: 'POST', headers: authHeaders(s.toolToken),
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(r.status, 200);
    const start = JSON.parse((await stream.next((e) => e.event === 'request:start')).data);
    assert.equal(start.model, 'claude-haiku-4-5');
    assert.equal(start.tool, 'test-tool');
    const end = JSON.parse((await stream.next((e) => e.event === 'request:end')).data);
    assert.equal(end.id, start.id);
    assert.equal(end.status, 200);
    assert.equal(end.outputTokens, 9);
    assert.equal(typeof end.costUsd, 'number');
    assert.ok(end.costUsd > 0);
    for (const k of ['keyId', 'upstreamRequestId', 'bytesIn', 'clientVersion', 'agentId']) assert.equal(k in end, false, `${k} is not sent`);

    s.gw.events.emit('alert', { kind: 'budget', level: 'warning', message: 'test alert', ts: 1 });
    const alert = JSON.parse((await stream.next((e) => e.event === 'alert')).data);
    assert.equal(alert.message, 'test alert');

    // The heartbeat interval is short in this stack; wait for one with a deadline, not a fixed sleep.
    await until(() => /: heartbeat\n\n/.test(stream.raw()), 'a heartbeat comment');
    assert.equal(s.gw.events.listenerCount('request:end'), 1);

    await s.close();
    closed = true;
    await stream.ended;
    assert.equal(s.gw.events.listenerCount('request:end'), 0, 'listeners removed on shutdown');
  } finally {
    if (!closed) await s.close();
  }
});

test('the event stream needs admin auth', async () => {
  const s = await startAdminStack();
  try {
    const r = await rawRequest(`${s.gw.url}/admin/api/events`, { headers: { authorization: `Bearer ${s.toolToken}` } });
    assert.equal(r.status, 401);
  } finally {
    await s.close();
  }
});

test('a client that leaves unsubscribes its stream', async () => {
  const s = await startAdminStack();
  try {
    const stream = await openStream(`${s.gw.url}/admin/api/events`, s.admin.adminToken);
    assert.equal(s.gw.events.listenerCount('alert'), 1);
    stream.res.destroy();
    await until(() => s.gw.events.listenerCount('alert') === 0, 'the stream to unsubscribe');
  } finally {
    await s.close();
  }
});
