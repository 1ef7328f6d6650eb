// The oracle scripts' protocol (tools/nodejs.py run_script): one JSON request on stdin,
// one JSON answer on stdout, {"ok": answer(request)} or {"error": the stack}.
export function serve(answer) {
    let input = '';
    process.stdin.on('data', (chunk) => (input += chunk));
    process.stdin.on('end', () => {
        try {
            process.stdout.write(JSON.stringify({ ok: answer(JSON.parse(input)) }));
        } catch (e) {
            process.stdout.write(JSON.stringify({ error: String(e && e.stack ? e.stack : e) }));
        }
    });
}
