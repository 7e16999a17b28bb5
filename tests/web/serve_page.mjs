// The real-browser test of `melodist serve` (issue 17): Debian's chromium driven by puppeteer-core.
// Loads the page, sets key, meter and bars, composes, counts the bars abcjs drew, plays, downloads the
// MIDI and ABC and reads them back with `melodist encode`, reloads and finds the tune in the history,
// drops a .krn file on the primer and composes from it;
// every request the browser makes is recorded and none may leave 127.0.0.1.
// Usage: node serve_page.mjs MELODIST_BINARY OUT_DIR   (exit 77: skipped, puppeteer-core not installed)
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const [binary, outDir] = process.argv.slice(2);
const require = createRequire(import.meta.url);
let puppeteer;
try {
  puppeteer = require("puppeteer-core");
} catch (_) {
  console.log("SKIPPED: tests/web/node_modules is absent; run `npm ci` in tests/web (scripts/setup.sh --test does)");
  process.exit(77);
}
const chromium = "/usr/bin/chromium";
if (!fs.existsSync(chromium)) {
  console.log("SKIPPED: /usr/bin/chromium is absent (apt-get install chromium)");
  process.exit(77);
}

function check(condition, message) {
  if (!condition) throw new Error("FAILED: " + message);
  console.log("ok: " + message);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "melodist-web-test-"));
const downloads = path.join(work, "downloads");
fs.mkdirSync(downloads);
fs.mkdirSync(outDir, { recursive: true });

// The server on a free port; its first line names the URL.
const server = spawn(binary, ["serve", "--port", "0", "--history", path.join(work, "history.sqlite")], { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((resolve, reject) => {
  let out = "";
  server.stdout.on("data", d => { out += d; const m = out.match(/(http:\/\/127\.0\.0\.1:\d+\/)/); if (m) resolve(m[1]); });
  server.on("exit", code => reject(new Error("melodist serve exited with " + code)));
  setTimeout(() => reject(new Error("melodist serve did not start")), 30000);
});
console.log("server: " + url);

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: [...(process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : []), "--autoplay-policy=no-user-gesture-required", "--mute-audio"],
});
let failed = false;
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  const requests = [];
  page.on("request", r => requests.push(r.url()));
  const pageErrors = [];
  page.on("pageerror", e => pageErrors.push(e.message));
  const cdp = await page.createCDPSession();
  await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });

  await page.goto(url, { waitUntil: "networkidle0" });
  await page.waitForSelector("#model option");
  await page.select("#key", "G major");
  await page.select("#meter", "3/4");
  await page.$eval("#bars", el => { el.value = "8"; });
  await page.$eval("#seed", el => { el.value = "42"; });
  await page.$eval("#cadence_temperature", el => { el.value = "0.3"; });
  await page.$eval("#rhythm_temperature", el => { el.value = "1"; });
  await page.click("#compose");
  await page.waitForSelector(".tune .staff svg", { timeout: 30000 });
  const id = await page.$eval(".tune", el => Number(el.dataset.id));
  const tune = await page.evaluate(async id => (await fetch(`/api/tunes/${id}`)).json(), id);
  check(tune.request.key === "G major" && tune.request.meter === "3/4" && tune.request.bars === 8 && tune.request.cadence_temperature === 0.3 &&
        tune.request.rhythm_temperature === 1, "the form's key, meter, bars, cadence and rhythm reached the server");
  const barsDrawn = await page.$$eval(".tune .staff svg .abcjs-bar", els => els.length);
  const barsExpected = Math.ceil(tune.length_quarters / 3 - 1e-9);
  check(barsExpected >= 1 && barsExpected <= 8, `the melody is at most 8 bars of 3/4 (${tune.length_quarters} quarters)`);
  check(barsDrawn === barsExpected, `abcjs drew ${barsDrawn} bars, the melody has ${barsExpected}`);
  const rollPainted = await page.$eval(".tune canvas.roll", c => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0) return true;
    return false;
  });
  check(rollPainted, "the piano roll is drawn");
  await page.waitForSelector(`#history li[data-id="${id}"]`, { timeout: 10000 });
  await page.screenshot({ path: path.join(outDir, "serve-page.png"), fullPage: true });

  await page.click(".tune .play");
  await page.waitForFunction(() => document.querySelector(".tune").classList.contains("playing"), { timeout: 30000 });
  await page.waitForSelector(".abcjs-highlight", { timeout: 10000 });
  check(true, "Play starts the player and highlights the note being played");
  await page.click(".tune .stop");
  check(!(await page.$eval(".tune", el => el.classList.contains("playing"))), "Stop stops it");

  for (const format of ["mid", "abc"]) await page.click(`.tune .download-${format}`);
  const files = ["mid", "abc"].map(f => path.join(downloads, `melodist-${id}.${f}`));
  for (let i = 0; i < 100 && !files.every(f => fs.existsSync(f)); ++i) await new Promise(r => setTimeout(r, 100));
  check(files.every(f => fs.existsSync(f)), "the MIDI and ABC downloads arrived");
  const encode = f => execFileSync(binary, ["encode", "--transpose", "none", f], { encoding: "utf8" }).trim();
  const fromMidi = encode(files[0]), fromAbc = encode(files[1]);
  const notes = s => s.split(/\s+/).filter(x => /^\d+$/.test(x));
  check(notes(fromMidi).length === tune.notes.length, `melodist reads the downloaded MIDI: ${notes(fromMidi).length} notes, as composed`);
  check(notes(fromAbc).join(" ") === tune.notes.map(n => n[0]).join(" "), "melodist reads the downloaded ABC: the composed pitches in order");

  await page.reload({ waitUntil: "networkidle0" });
  await page.waitForSelector(`#history li[data-id="${id}"]`, { timeout: 10000 });
  check(true, "after a reload the tune is in the history");

  // A dropped song file becomes the primer (the server's kern reader encodes it), and composes.
  const krn = fs.readFileSync(new URL("../fixtures/kern/key-A-major.krn", import.meta.url), "utf8");
  await page.evaluate((name, text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], name));
    document.getElementById("primer").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, "key-A-major.krn", krn);
  await page.waitForFunction(() => document.getElementById("primer").value.trim().length > 0, { timeout: 10000 });
  const primer = await page.$eval("#primer", el => el.value.trim());
  await page.click("#compose");
  await page.waitForFunction(id => { const t = document.querySelector(".tune"); return t && Number(t.dataset.id) > id; }, { timeout: 30000 }, id);
  const primed = await page.evaluate(async () => (await fetch(`/api/tunes/${document.querySelector(".tune").dataset.id}`)).json());
  check(primed.request.primer === primer && primed.symbols.startsWith(primer), `a dropped .krn file is the primer (${primer.split(" ").length} symbols) and the tune starts with it`);

  const foreign = requests.filter(u => !u.startsWith(url) && !u.startsWith("blob:" + url.slice(0, -1)) && !u.startsWith("data:"));
  check(requests.length > 0 && foreign.length === 0, `all ${requests.length} requests stayed on ${url}` + (foreign.length ? ": " + foreign.join(", ") : ""));
  check(pageErrors.length === 0, "no script errors on the page" + (pageErrors.length ? ": " + pageErrors.join("; ") : ""));
} catch (e) {
  console.error(e.message);
  failed = true;
} finally {
  await browser.close();
  server.kill("SIGTERM");
  fs.rmSync(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
