#!/usr/bin/env node
// Development-only stand-in for the NeuroTriage API (shape taken from openapi.json), serving dist/ with
// SPA fallback. Lets the frontend be clicked through without the Python stack:
//   npm run build && node scripts/mock-api.mjs [--port 8010]
// Accounts (mock only): clin/clinpass (clinician), coord/coordpass (coordinator), adm/admpass (admin).
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flags as synthFlags, volumes } from './synthetic-nifti.mjs';

const port = Number(process.argv[process.argv.indexOf('--port') + 1]) || 8010;
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const USERS = {
  clin: { id: 1, username: 'clin', password: 'clinpass', roles: ['clinician'] },
  coord: { id: 2, username: 'coord', password: 'coordpass', roles: ['coordinator'] },
  adm: { id: 3, username: 'adm', password: 'admpass', roles: ['admin'] },
};
const sessions = new Map(); // sid -> { user, csrf }
const MODEL = { name: 'itermask3d-fast-t1', version: '0.1.0-mock', trained: false };
let nextCaseId = 1;
let nextFlagId = 1;
const cases = new Map();
const verdicts = new Map(); // `${flagId}:${userId}` -> verdict
const caseVerdicts = new Map(); // `${caseId}:${userId}` -> case verdict
const claims = new Map(); // caseId -> { user, until }
let nextFindingId = 1;

function newCase(label, status, extra = {}) {
  const c = {
    id: nextCaseId++,
    label,
    sequence: 't1',
    uploaded_at: new Date(Date.now() - (10 - nextCaseId) * 60000).toISOString(),
    status,
    progress: status === 'succeeded' ? 100 : 0,
    stage: null,
    score: null,
    triage: null,
    model: null,
    error: null,
    flags: [],
    findings: [],
    threshold: null,
    passes: null,
    seconds: null,
    ...extra,
  };
  if (status === 'succeeded') finish(c);
  cases.set(c.id, c);
  return c;
}

function finish(c) {
  Object.assign(c, {
    status: 'succeeded',
    progress: 100,
    stage: null,
    score: 0.0123,
    triage: 'review',
    model: MODEL,
    threshold: 0.031,
    passes: 112,
    seconds: 41.2,
    flags: synthFlags().map((f) => ({ ...f, id: nextFlagId++ })),
  });
}

function run(c) {
  const stages = [
    [0.05, 'preprocessing'],
    [0.4, 'threshold search'],
    [0.9, 'refining mask'],
    [1.0, 'writing results'],
  ];
  let t = 0;
  c.status = 'queued';
  const timer = setInterval(() => {
    t += 1;
    if (t === 2) c.status = 'running';
    if (c.status !== 'running') return;
    const p = Math.min(100, c.progress + 12);
    c.progress = p;
    c.stage = stages.find(([f]) => p / 100 <= f)?.[1] ?? 'writing results';
    if (p >= 100) {
      clearInterval(timer);
      if (c.label.includes('fail')) Object.assign(c, { status: 'failed', error: 'The scan has no brain-shaped foreground; is it a head MRI?' });
      else finish(c);
    }
  }, 1000);
}

newCase('demo lesion 01', 'succeeded');
newCase('demo normal 01', 'failed', { error: 'Input volume is empty (all voxels are zero).', progress: 5 });
run(newCase('demo artefact 01', 'queued'));

function view(c, user, detail) {
  const flags = c.flags.map((f) => ({ ...f, verdict: verdicts.get(`${f.id}:${user.id}`) ?? null }));
  const cv = caseVerdicts.get(`${c.id}:${user.id}`) ?? null;
  const anyCase = [...caseVerdicts.keys()].some((k) => k.startsWith(`${c.id}:`));
  const anyFlag = c.flags.some((f) => [...verdicts.keys()].some((k) => k.startsWith(`${f.id}:`)));
  const claim = claims.get(c.id);
  const live = claim && Date.parse(claim.until) > Date.now() ? claim : null;
  const summary = {
    id: c.id, label: c.label, sequence: c.sequence, uploaded_at: c.uploaded_at, status: c.status,
    progress: c.progress, stage: c.stage, score: c.score, triage: c.triage, flag_count: c.flags.length,
    reviewed: anyCase, review_state: anyCase ? 'reviewed' : anyFlag ? 'in_progress' : 'unreviewed',
    model: c.model, claimed_by: live?.user ?? null, claimed_until: live?.until ?? null,
  };
  return detail
    ? {
        ...summary, error: c.error, flags, threshold: c.threshold, passes: c.passes, seconds: c.seconds,
        case_verdict: cv, findings: c.findings, attempts: 1, review_seconds: 0, dicom_meta: {}, source_format: 'nifti',
      }
    : summary;
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(text);
}
const fail = (res, status, detail) => send(res, status, { detail });

function cookies(req) {
  const out = {};
  for (const p of (req.headers.cookie ?? '').split(';')) {
    const i = p.indexOf('=');
    if (i > 0) out[p.slice(0, i).trim()] = decodeURIComponent(p.slice(i + 1).trim());
  }
  return out;
}

async function body(req) {
  const chunks = [];
  for await (const ch of req) chunks.push(ch);
  return Buffer.concat(chunks);
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(req, res, url) {
  const path = url.pathname;
  const method = req.method;
  if (path === '/api/health') return send(res, 200, { status: 'ok', database: 'mock' });
  if (path === '/api/auth/login' && method === 'POST') {
    let j = {};
    try {
      j = JSON.parse((await body(req)).toString() || '{}');
    } catch {
      return fail(res, 422, 'The request body is not valid JSON.');
    }
    const u = USERS[j.username];
    await delay(150);
    if (!u || u.password !== j.password) return fail(res, 401, 'Wrong username or password.');
    const sid = randomBytes(16).toString('hex');
    const csrf = randomBytes(16).toString('hex');
    sessions.set(sid, { user: u, csrf });
    return send(res, 200, { id: u.id, username: u.username, roles: u.roles }, {
      'Set-Cookie': [`nt_session=${sid}; Path=/; HttpOnly; SameSite=Lax`, `csrftoken=${csrf}; Path=/; SameSite=Lax`],
    });
  }
  const s = sessions.get(cookies(req).nt_session);
  if (!s) return fail(res, 401, 'Not signed in.');
  if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) && req.headers['x-csrf-token'] !== s.csrf) {
    return fail(res, 403, 'Missing or wrong CSRF token.');
  }
  const u = s.user;
  if (path === '/api/auth/logout' && method === 'POST') {
    sessions.delete(cookies(req).nt_session);
    res.writeHead(204, { 'Set-Cookie': 'nt_session=; Path=/; Max-Age=0' });
    return res.end();
  }
  if (path === '/api/me') return send(res, 200, { id: u.id, username: u.username, roles: u.roles });
  const reader = u.roles.includes('clinician') || u.roles.includes('coordinator');
  if (path === '/api/cases' && method === 'GET') {
    if (!reader) return fail(res, 403, 'This needs the clinician or coordinator role.');
    const status = url.searchParams.get('status');
    const page = Number(url.searchParams.get('page') ?? 1);
    const size = Number(url.searchParams.get('page_size') ?? 25);
    const prio = { urgent: 0, review: 1, routine: 2 };
    const all = [...cases.values()]
      .filter((c) => !status || c.status === status)
      .sort((a, b) => (prio[a.triage] ?? 3) - (prio[b.triage] ?? 3) || b.id - a.id);
    return send(res, 200, {
      items: all.slice((page - 1) * size, page * size).map((c) => view(c, u, false)),
      total: all.length, page, page_size: size,
    });
  }
  if (path === '/api/cases' && method === 'POST') {
    if (!reader) return fail(res, 403, 'This needs the clinician or coordinator role.');
    const raw = (await body(req)).toString('latin1');
    const name = /filename="([^"]*)"/.exec(raw)?.[1] ?? '';
    if (!name) return fail(res, 422, 'Upload exactly one NIfTI file; got 0 files.');
    if (!/\.nii(\.gz)?$/i.test(name)) return fail(res, 415, `“${name}” is not a NIfTI file (.nii or .nii.gz).`);
    const label = /name="label"\r\n\r\n([^\r]*)/.exec(raw)?.[1] || name.replace(/\.nii(\.gz)?$/i, '');
    const c = newCase(label, 'queued');
    run(c);
    return send(res, 201, view(c, u, true));
  }
  let m = /^\/api\/cases\/(\d+)$/.exec(path);
  if (m && method === 'GET') {
    const c = cases.get(Number(m[1]));
    return c ? send(res, 200, view(c, u, true)) : fail(res, 404, `No case ${m[1]}.`);
  }
  m = /^\/api\/cases\/(\d+)\/files\/(scan|anomaly_map|anomaly_mask)$/.exec(path);
  if (m && method === 'GET') {
    const c = cases.get(Number(m[1]));
    if (!c) return fail(res, 404, `No case ${m[1]}.`);
    if (m[2] !== 'scan' && c.status !== 'succeeded') return fail(res, 404, 'Not produced yet.');
    const buf = volumes()[m[2]];
    res.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Length': buf.length });
    return res.end(buf);
  }
  m = /^\/api\/cases\/(\d+)\/(claim|review-time|verdict|findings)$/.exec(path);
  if (m) {
    const c = cases.get(Number(m[1]));
    if (!c) return fail(res, 404, `No case ${m[1]}.`);
    if (!u.roles.includes('clinician')) return fail(res, 403, 'This needs the clinician role.');
    if (m[2] === 'claim') {
      const cur = claims.get(c.id);
      if (cur && cur.user !== u.username && Date.parse(cur.until) > Date.now()) {
        return fail(res, 409, `Claimed by ${cur.user} until ${cur.until}.`);
      }
      if (method === 'DELETE') {
        claims.delete(c.id);
        res.writeHead(204);
        return res.end();
      }
      const claim = { user: u.username, until: new Date(Date.now() + 30 * 60000).toISOString() };
      claims.set(c.id, claim);
      return send(res, 200, { claimed_by: claim.user, claimed_until: claim.until });
    }
    if (m[2] === 'review-time') {
      await body(req);
      res.writeHead(204);
      return res.end();
    }
    const j = JSON.parse((await body(req)).toString() || '{}');
    if (m[2] === 'verdict' && method === 'PUT') {
      const key = `${c.id}:${u.id}`;
      const cur = caseVerdicts.get(key);
      if ((cur ? cur.version : 0) !== (j.version ?? (cur ? cur.version : 0))) return fail(res, 409, 'Someone else changed this case verdict.');
      const v = { verdict: j.verdict, comment: j.comment ?? null, reviewer: u.username, updated_at: new Date().toISOString(), version: (cur?.version ?? 0) + 1 };
      caseVerdicts.set(key, v);
      return send(res, 200, v);
    }
    if (m[2] === 'findings' && method === 'POST') {
      const f = { id: nextFindingId++, point_mm: j.point_mm, point_voxel: j.point_voxel ?? null, radius_mm: j.radius_mm ?? 0, comment: j.comment ?? null, reviewer: u.username, created_at: new Date().toISOString() };
      c.findings.push(f);
      return send(res, 201, f);
    }
  }
  m = /^\/api\/findings\/(\d+)$/.exec(path);
  if (m && method === 'DELETE') {
    for (const c of cases.values()) c.findings = c.findings.filter((f) => f.id !== Number(m[1]));
    res.writeHead(204);
    return res.end();
  }
  m = /^\/api\/flags\/(\d+)\/verdict$/.exec(path);
  if (m && method === 'PUT') {
    if (!u.roles.includes('clinician')) return fail(res, 403, 'This needs the clinician role.');
    const id = Number(m[1]);
    if (![...cases.values()].some((c) => c.flags.some((f) => f.id === id))) return fail(res, 404, `No flag ${id}.`);
    const j = JSON.parse((await body(req)).toString() || '{}');
    if (!['accept', 'reject', 'unsure'].includes(j.verdict)) return fail(res, 422, 'verdict: must be accept, reject or unsure');
    const key = `${id}:${u.id}`;
    const cur = verdicts.get(key);
    if ((cur ? cur.version : 0) !== (j.version ?? (cur ? cur.version : 0))) {
      return fail(res, 409, 'Someone else changed this verdict; reload the case to see the current one.');
    }
    const v = {
      verdict: j.verdict, reason: j.reason ?? null, comment: j.comment ?? null, reviewer: u.username,
      updated_at: new Date().toISOString(), version: (cur?.version ?? 0) + 1,
    };
    verdicts.set(key, v);
    await delay(120);
    return send(res, 200, v);
  }
  return fail(res, 404, 'Not Found');
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.svg': 'image/svg+xml' };

async function file(res, p) {
  const full = normalize(join(dist, p));
  if (!full.startsWith(dist)) return false;
  try {
    if (!(await stat(full)).isFile()) return false;
    res.writeHead(200, { 'Content-Type': TYPES[extname(full)] ?? 'application/octet-stream' });
    res.end(await readFile(full));
    return true;
  } catch {
    return false;
  }
}

http
  .createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    try {
      if (url.pathname.startsWith('/api/')) return await api(req, res, url);
      if (url.pathname !== '/' && (await file(res, url.pathname))) return;
      if (!(await file(res, 'index.html'))) fail(res, 404, 'dist/ not built: run npm run build');
    } catch (e) {
      console.error(e);
      fail(res, 500, 'Mock server error.');
    }
  })
  .listen(port, '127.0.0.1', () => console.log(`mock NeuroTriage API + dist on http://127.0.0.1:${port}`));
