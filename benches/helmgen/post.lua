-- wrk script: POST one app.toml (path in HELMGEN_APP) to /v1/render.
local path = os.getenv("HELMGEN_APP")
local f = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/toml"

-- Non-2xx answers are reported, so a fast stream of errors cannot pass for throughput.
done = function(summary, latency, requests)
  io.write(string.format("non-2xx/3xx responses: %d\n", summary.errors.status))
end
