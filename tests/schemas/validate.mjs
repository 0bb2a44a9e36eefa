#!/usr/bin/env node
// Holds JSON-RPC traffic and the protocol's valid vectors to the JSON
// Schemas in proto/schemas: each request's params against its method's
// params schema, each answer against the method's result schema (or
// error.json), each notification against its own schema.
//
//   node validate.mjs [--schemas DIR] [--traffic FILE] [--vectors DIR]
//                     [--coverage] [--require-codes C,C,...]
//
// A traffic file is JSON Lines, one object per line, in the order seen:
//   {"conn": 1, "sent": "<the line as sent>"}
//   {"conn": 1, "received": "<the line as received>"}
// An optional "params" member on a sent line says what the sender meant:
//   "invalid"        params break the schema on purpose: the schema must
//                    refuse them and kicd must answer -32602 naming a
//                    field the schema's errors name;
//   "beyond-schema"  params the schema accepts but kicd refuses with
//                    -32602 for reasons a schema cannot know (an unknown
//                    category, a time in the future);
//   "not-a-request"  not a valid request at all (not JSON, a bad envelope,
//                    an unknown method): its answer must be an error.
// Answers are paired with requests per connection, in order (kicd answers
// a connection's requests in request order); notifications (no id) may
// come in between.
//
// Exit status 0 when everything holds, 1 with one line per failure.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, dirname, basename } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
    const opts = { schemas: join(here, "../../proto/schemas"), traffic: null, vectors: null,
                   coverage: false, requireCodes: [] };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--schemas") opts.schemas = argv[++i];
        else if (a === "--traffic") opts.traffic = argv[++i];
        else if (a === "--vectors") opts.vectors = argv[++i];
        else if (a === "--coverage") opts.coverage = true;
        else if (a === "--require-codes") opts.requireCodes = argv[++i].split(",").map(Number);
        else throw new Error(`unknown argument ${a}`);
    }
    if (!opts.traffic && !opts.vectors) throw new Error("give --traffic FILE and/or --vectors DIR");
    return opts;
}

// ---- schemas ----

// Files that are shared parts, not a method's or a notification's.
const SHARED = new Set(["common", "envelope", "error", "event", "snapshot", "report"]);

function loadSchemas(dir) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, strictRequired: false });
    addFormats(ajv);
    const methods = new Map(), notifications = new Map();
    const load = (file) => {
        const schema = JSON.parse(readFileSync(file, "utf8"));
        ajv.addSchema(schema);
        return schema.$id;
    };
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
        const id = load(join(dir, f)), name = basename(f, ".json");
        if (!SHARED.has(name)) methods.set(name, id);
    }
    const ndir = join(dir, "notifications");
    for (const f of readdirSync(ndir).filter((f) => f.endsWith(".json")).sort())
        notifications.set(basename(f, ".json"), load(join(ndir, f)));
    const base = methods.get("server.ping").replace(/[^/]*$/, "");
    const get = (ref) => {
        const v = ajv.getSchema(ref);
        if (!v) throw new Error(`schema ${ref} not found`);
        return v;
    };
    // Compile everything now: a broken schema fails before any traffic.
    for (const id of methods.values()) ["params", "result", "response"].forEach((d) => get(`${id}#/$defs/${d}`));
    for (const id of notifications.values()) get(id);
    return { ajv, methods, notifications, get, base };
}

// ---- reporting ----

const failures = [];
const seen = { params: new Map(), result: new Map(), notification: new Map(), codes: new Map() };

function count(map, key) {
    map.set(key, (map.get(key) || 0) + 1);
}

function fail(where, method, what, errors) {
    let text = `${where}: ${method || "(no method)"}: ${what}`;
    for (const e of (errors || []).slice(0, 6)) {
        const extra = e.params && (e.params.additionalProperty || e.params.missingProperty || e.params.allowedValues);
        text += `\n    ${e.instancePath || "(root)"} ${e.message}${extra ? ` (${JSON.stringify(extra)})` : ""}` +
                `  [${e.schemaPath}]`;
    }
    if (errors && errors.length > 6) text += `\n    ... and ${errors.length - 6} more`;
    failures.push(text);
}

// Validates value against the schema at ref (a full URI); on failure
// records why, naming the schema by its path under proto/schemas.
function check(s, ref, value, where, method, what) {
    const validate = s.get(ref);
    if (validate(value)) return true;
    fail(where, method, `${what} does not match ${ref.replace(s.base, "")}`, validate.errors);
    return false;
}

// ---- traffic ----

// The top-level parameter names an ajv error list is about.
function fieldsNamed(errors) {
    const names = new Set();
    for (const e of errors || []) {
        const top = e.instancePath.split("/")[1];
        if (top) names.add(top);
        else if (e.params?.missingProperty) names.add(e.params.missingProperty);
        else if (e.params?.additionalProperty) names.add(e.params.additionalProperty);
        else names.add("params");
    }
    return names;
}

// One request (an object from a sent line, or a batch entry) checked for
// its params; returns what its answer must be checked against.
function checkRequest(s, req, intent, where) {
    const method = typeof req?.method === "string" ? req.method : null;
    const pending = { method, id: req?.id, intent, where, paramErrors: null };
    if (intent === "not-a-request") return pending;
    if (intent !== "invalid") // params that are not an object break the envelope too
        check(s, s.base + "envelope.json#/$defs/request", req, where, method, "the request");
    if (!s.methods.has(method)) {
        fail(where, method, "no schema for this method (mark the line not-a-request if that is the point)");
        return pending;
    }
    const ref = `${s.methods.get(method)}#/$defs/params`;
    const params = req.params === undefined ? {} : req.params;
    if (intent === "invalid") {
        const validate = s.get(ref);
        if (validate(params)) fail(where, method, "params were sent as invalid, but the params schema accepts them");
        pending.paramErrors = validate.errors;
    } else if (check(s, ref, params, where, method, "params")) {
        count(seen.params, method);
    }
    return pending;
}

function checkReport(s, request, result, where) {
    const group = request?.params?.group_by || [];
    const lead = [...group, ...(request?.params?.interval === "all" ? [] : ["interval_start"])];
    const columns = result.columns || [];
    if (lead.some((name, i) => columns[i] !== name))
        fail(where, "report.query", `columns must start with ${JSON.stringify(lead)}, got ` +
             JSON.stringify(columns.slice(0, lead.length)));
    (result.rows || []).forEach((row, r) => {
        if (row.length !== columns.length) {
            fail(where, "report.query", `row ${r} has ${row.length} values for ${columns.length} columns`);
            return;
        }
        const named = Object.fromEntries(columns.map((c, i) => [c, row[i]]));
        check(s, s.base + "report.json#/$defs/row", named, where, "report.query", `row ${r} (read by its columns)`);
    });
}

// An answer to pending (a request we sent), checked.
function checkAnswer(s, pending, answer, where, request) {
    const method = pending.method;
    if (!check(s, s.base + "envelope.json#/$defs/response", answer, where, method, "the answer"))
        return;
    const expectedId = pending.id === undefined ? null : pending.id;
    if (pending.intent !== "not-a-request" && JSON.stringify(answer.id) !== JSON.stringify(expectedId))
        fail(where, method, `answer id ${JSON.stringify(answer.id)} is not the request's ${JSON.stringify(expectedId)}`);
    if ("error" in answer) {
        count(seen.codes, answer.error.code);
        check(s, s.base + "error.json", answer.error, where, method, "the error");
        if (pending.intent === "invalid" || pending.intent === "beyond-schema") {
            if (answer.error.code !== -32602)
                fail(where, method, `params were sent as ${pending.intent}: expected -32602, got ${answer.error.code}`);
            const field = answer.error.data?.field;
            if (pending.intent === "invalid" && pending.paramErrors && !fieldsNamed(pending.paramErrors).has(field))
                fail(where, method, `kicd names field ${JSON.stringify(field)}, the schema's errors name ` +
                     JSON.stringify([...fieldsNamed(pending.paramErrors)]), pending.paramErrors);
        }
        return;
    }
    if (pending.intent !== undefined) {
        fail(where, method, `params were sent as ${pending.intent}, but kicd answered with a result`);
        return;
    }
    if (!s.methods.has(method)) return;
    if (check(s, `${s.methods.get(method)}#/$defs/result`, answer.result, where, method, "the result"))
        count(seen.result, method);
    if (method === "report.query") checkReport(s, request, answer.result, where);
}

function parseOrNull(text) {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

// A sent line becomes a list of expected answers: [] for a notification,
// one for a request or an unreadable line, an array for a batch.
const INTENTS = new Set([undefined, "invalid", "beyond-schema", "not-a-request"]);

function expectationsOf(s, rec, where) {
    const msg = parseOrNull(rec.sent);
    const intent = rec.params;
    if (!INTENTS.has(intent)) fail(where, null, `unknown "params" mark ${JSON.stringify(intent)}`);
    if (msg === undefined || intent === "not-a-request")
        return [{ single: { method: msg?.method ?? null, intent: "not-a-request", where } }];
    if (Array.isArray(msg)) {
        check(s, s.base + "envelope.json#/$defs/batch", msg, where, "(batch)", "the batch");
        const entries = msg.map((req, i) => ({ req, p: checkRequest(s, req, intent, `${where} [batch entry ${i}]`) }))
            .filter((e) => !(e.req && typeof e.req === "object" && !("id" in e.req)));
        return entries.length ? [{ batch: entries }] : [];
    }
    const p = checkRequest(s, msg, intent, where);
    const isNotification = msg && typeof msg === "object" && !("id" in msg);
    return isNotification ? [] : [{ single: p, req: msg }];
}

function checkNotification(s, msg, where) {
    const method = msg.method;
    if (!s.notifications.has(method)) {
        fail(where, method, "a notification without a schema in proto/schemas/notifications");
        return;
    }
    if (check(s, s.notifications.get(method), msg, where, method, "the notification"))
        count(seen.notification, method);
}

function validateTraffic(s, file) {
    const lines = readFileSync(file, "utf8").split("\n");
    const pending = new Map(); // conn -> expected answers, oldest first
    let records = 0;
    lines.forEach((line, i) => {
        if (!line.trim()) return;
        const where = `${basename(file)}:${i + 1}`;
        const rec = parseOrNull(line);
        if (!rec || typeof rec !== "object") {
            fail(where, null, "not a traffic record");
            return;
        }
        records++;
        const queue = pending.get(rec.conn) || [];
        pending.set(rec.conn, queue);
        if (typeof rec.sent === "string") {
            queue.push(...expectationsOf(s, rec, where));
            return;
        }
        const msg = parseOrNull(rec.received);
        if (msg === undefined) {
            fail(where, null, "kicd sent a line that is not JSON");
            return;
        }
        if (msg && typeof msg === "object" && !Array.isArray(msg) && "method" in msg && !("id" in msg)) {
            checkNotification(s, msg, where);
            return;
        }
        const next = queue.shift();
        if (!next) {
            fail(where, msg?.error ? "(error)" : null, "an answer to no request on this connection");
            return;
        }
        if (next.batch) {
            check(s, s.base + "envelope.json#/$defs/batch_response", msg, where, "(batch)", "the batch's answer");
            if (!Array.isArray(msg) || msg.length !== next.batch.length) {
                fail(where, "(batch)", `expected an array of ${next.batch.length} answers`);
                return;
            }
            next.batch.forEach((e, k) => checkAnswer(s, e.p, msg[k], `${where} [answer ${k}]`, e.req));
        } else {
            checkAnswer(s, next.single, msg, `${where} (request at ${next.single.where})`, next.req);
        }
    });
    for (const [conn, queue] of pending)
        for (const q of queue)
            fail(q.single?.where || q.batch[0].p.where, q.single?.method || "(batch)",
                 `connection ${conn}: no answer seen`);
    return records;
}

// ---- vectors ----

// The text a vector case sends (README of proto/vectors: send, send_b64,
// send_parts), with ${token:ROLE} replaced by a stand-in token.
function vectorText(c) {
    let text;
    if (typeof c.send === "string") text = c.send;
    else if (typeof c.send_b64 === "string") text = Buffer.from(c.send_b64, "base64").toString("utf8");
    else if (Array.isArray(c.send_parts))
        text = c.send_parts.map((p) => (typeof p === "string" ? p : p.repeat.repeat(p.count))).join("");
    else return null;
    return text.replace(/\$\{token:[a-z]+\}/g, "kic_" + "0".repeat(48));
}

function validateVectors(s, dir) {
    let checked = 0, skipped = 0;
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort()) {
        readFileSync(join(dir, f), "utf8").split("\n").forEach((line, i) => {
            if (!line.trim()) return;
            const c = JSON.parse(line), where = `${f}:${i + 1} (${c.name})`;
            const text = vectorText(c);
            const expects = Array.isArray(c.expect) ? c.expect : [c.expect];
            let reply = 0;
            for (const raw of (text || "").split("\n").map((l) => l.replace(/\r+$/, ""))) {
                const msg = raw.trim() ? parseOrNull(raw) : undefined;
                if (msg === undefined || msg === null || typeof msg !== "object") {
                    skipped++; // deliberately not a request (blank, a lone CR, not JSON)
                    continue;
                }
                for (const req of Array.isArray(msg) ? msg : [msg]) {
                    const answered = req && typeof req === "object" && "id" in req;
                    const expect = answered ? expects[Math.min(reply++, expects.length - 1)] : "result";
                    const known = s.methods.has(req?.method);
                    if (expect !== "result" || (!answered && !known)) {
                        skipped++; // expected to fail, or a notification of a method we do not know
                        continue;
                    }
                    if (!known) {
                        fail(where, req?.method, "the vector expects a result, but the method has no schema");
                        continue;
                    }
                    const ref = `${s.methods.get(req.method)}#/$defs/params`;
                    if (check(s, ref, req.params === undefined ? {} : req.params, where, req.method, "params"))
                        checked++;
                }
            }
        });
    }
    return { checked, skipped };
}

// ---- coverage ----

function checkCoverage(s, requireCodes) {
    for (const m of s.methods.keys()) {
        if (!seen.params.get(m)) fail("coverage", m, "no valid request with this method in the traffic");
        if (!seen.result.get(m)) fail("coverage", m, "no result of this method in the traffic");
    }
    for (const n of s.notifications.keys())
        if (!seen.notification.get(n)) fail("coverage", n, "this notification never came");
    for (const code of requireCodes)
        if (!seen.codes.get(code)) fail("coverage", null, `no error ${code} in the traffic`);
}

function main() {
    const opts = parseArgs(process.argv.slice(2));
    const s = loadSchemas(opts.schemas);
    if (opts.traffic) {
        const n = validateTraffic(s, opts.traffic);
        const sum = (m) => [...m.values()].reduce((a, b) => a + b, 0);
        console.log(`traffic: ${n} lines; ${sum(seen.params)} requests, ${sum(seen.result)} results, ` +
                    `${sum(seen.notification)} notifications, errors ${JSON.stringify(Object.fromEntries(seen.codes))}`);
        if (opts.coverage) checkCoverage(s, opts.requireCodes);
    }
    if (opts.vectors) {
        const v = validateVectors(s, opts.vectors);
        console.log(`vectors: ${v.checked} requests checked, ${v.skipped} lines or entries skipped (not expected to succeed)`);
    }
    for (const f of failures) console.log(`FAIL ${f}`);
    console.log(failures.length ? `${failures.length} schema failures` : "all traffic matches the schemas");
    process.exit(failures.length ? 1 : 0);
}

main();
