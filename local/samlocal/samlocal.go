// Package samlocal is `make sam-local`: the SAM CLI's own Docker-based
// `sam local invoke` and `sam local start-api` over this repository's
// template, checked end to end on Linux. It makes sure a Docker engine with
// arm64 emulation answers, makes the images SAM looks for locally (nothing
// is pulled), runs `sam build`, starts the local stack's dynalite and WeChat
// simulator (package stack) on the Docker bridge address, and checks every
// events/ file and the README's curl flow through SAM.
package samlocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
	"github.com/werun-sam/werun-sam/local/stack"
)

// Dir holds what a run writes: the env-vars file for its ports and the
// logs.
const Dir = "build/sam-local"

// containerHost is the name events/env.json gives the host; `--add-host`
// points it at the Docker bridge address on Linux.
const containerHost = "host.docker.internal"

// Options say what Run does.
type Options struct {
	// Serve skips the checks and keeps the stack up for `sam local` by
	// hand, until ctx ends.
	Serve bool
}

// Run is `make sam-local`, run from the repository root. What it starts is
// stopped when it ends, also on failure or Ctrl-C; dockerd, when it
// started one, stays.
func Run(ctx context.Context, o Options) error {
	start := time.Now()
	sam, err := services.Tool(services.SAMBin)
	if err != nil {
		return err
	}
	t, err := template.Load(template.File)
	if err != nil {
		return err
	}
	rt, arch, err := lambdaRuntime(t)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(Dir, 0o755); err != nil {
		return err
	}
	step := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "sam-local: [%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
	}

	if err := ensureDocker(ctx, arch); err != nil {
		return err
	}
	// A `sam local invoke` stopped by Ctrl-C can leave its container.
	defer removeOurContainers()
	bridge, err := bridgeAddress(ctx)
	if err != nil {
		return err
	}
	step("Docker engine answers; containers reach the host at %s", bridge)
	if err := ensureSAMImages(ctx, sam, rt, arch); err != nil {
		return err
	}
	step("images for %s %s ready", rt, arch)
	b0 := time.Now()
	if err := runLogged(ctx, filepath.Join(Dir, "build.log"), sam, "build"); err != nil {
		return err
	}
	step("sam build in %.1fs", time.Since(b0).Seconds())

	st, envFile, err := startStack(ctx, bridge)
	if err != nil {
		return err
	}
	defer st.Close()
	step("DynamoDB %s (the fault proxy before dynalite), WeChat simulator %s", st.Over["AWS_ENDPOINT_URL_DYNAMODB"], st.Sim)
	common := []string{"--env-vars", envFile, "--skip-pull-image", "--add-host", containerHost + ":" + bridge}
	if o.Serve {
		fmt.Printf("Ready for sam local by hand (Ctrl-C stops the stack):\n")
		fmt.Printf("  %s local invoke SessionFunction -e events/session.json %s\n", services.SAMBin, strings.Join(common, " "))
		fmt.Printf("  %s local start-api %s\n", services.SAMBin, strings.Join(common, " "))
		fmt.Printf("  WeChat simulator for the curl flow: %s\n", st.Sim)
		<-ctx.Done()
		return nil
	}

	r := &report{}
	checkInvokes(ctx, sam, t, common, r)
	step("sam local invoke with every events/ file")
	if err := checkAPI(ctx, sam, common, st.Sim, r); err != nil {
		return err
	}
	step("sam local start-api and the curl flow")
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	fmt.Printf("sam-local: %d passed, %d failed\n", r.passed, r.failed)
	if r.failed > 0 {
		return fmt.Errorf("%d check(s) failed (logs in %s)", r.failed, Dir)
	}
	return nil
}

// startStack starts the local stack without functions, its DynamoDB (the
// fault proxy before dynalite with the template's table) and WeChat
// simulator bound to the Docker bridge address: the one address of the
// host that containers reach and the outside does not. It writes the env-vars file that points the functions
// at them.
func startStack(ctx context.Context, bridge string) (*stack.Stack, string, error) {
	logf, err := os.Create(filepath.Join(Dir, "services.log"))
	if err != nil {
		return nil, "", err
	}
	defer logf.Close() // dynalite holds its own descriptor
	// Neither the environment's WeChat nor its DynamoDB: this run checks
	// against the simulator and a fresh table.
	for _, k := range []string{"WECHAT_API_BASE", "AWS_ENDPOINT_URL_DYNAMODB"} {
		os.Unsetenv(k)
	}
	st, err := stack.Start(ctx, stack.Options{Host: bridge, Functions: []string{},
		Log: func(name string) io.Writer { return services.NewPrefixWriter(logf, "["+name+"] ") }})
	if err != nil {
		return nil, "", err
	}
	set := map[string]string{}
	for _, k := range []string{"WECHAT_API_BASE", "AWS_ENDPOINT_URL_DYNAMODB"} {
		u, err := url.Parse(st.Over[k])
		if err != nil {
			st.Close()
			return nil, "", fmt.Errorf("%s: %w", k, err)
		}
		set[k] = "http://" + net.JoinHostPort(containerHost, u.Port())
	}
	envFile := filepath.Join(Dir, "env.json")
	if err := writeEnvFile("events/env.json", envFile, set); err != nil {
		st.Close()
		return nil, "", err
	}
	return st, envFile, nil
}

// checkAPI runs `sam local start-api` and the curl flow through it, and
// stops it.
func checkAPI(ctx context.Context, sam string, common []string, simURL string, r *report) error {
	port, err := services.FreePort()
	if err != nil {
		return err
	}
	api, err := startAPI(sam, append([]string{"local", "start-api", "--host", "127.0.0.1", "--port", strconv.Itoa(port)}, common...))
	if err != nil {
		return err
	}
	defer api.stop()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := services.WaitHTTP(ctx, api.proc, base+"/", 120*time.Second); err != nil {
		return fmt.Errorf("%w (log: %s)", err, api.log)
	}
	checkCurlFlow(ctx, base, simURL, r)
	return nil
}

// report counts the checks, printing each.
type report struct {
	passed, failed int
}

func (r *report) check(name string, err error) {
	if err != nil {
		r.failed++
		fmt.Printf("FAIL %s: %v\n", name, err)
		return
	}
	r.passed++
	fmt.Printf("ok   %s\n", name)
}

// runLogged runs a command with its output in a log file, quoted on error.
func runLogged(ctx context.Context, logPath, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = samEnv()
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(logPath, out, 0o644)
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// samEnv is the environment SAM CLI runs in: no telemetry, a region, and
// no AWS credentials or profile. With credentials SAM first asks STS for
// the account id, which without a network costs about 12 s per command;
// without them it uses a default account and gives the functions dummy
// credentials, which dynalite accepts.
func samEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE":
		default:
			env = append(env, kv)
		}
	}
	return append(env, "SAM_CLI_TELEMETRY=0", "AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1") // the last value of a name wins
}

// writeEnvFile writes src (events/env.json, whose URLs name the ports of
// `make local`) with the given variables replaced in every function.
func writeEnvFile(src, dst string, set map[string]string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	for _, vars := range env {
		for k, v := range set {
			if _, ok := vars[k]; ok {
				vars[k] = v
			}
		}
	}
	out, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(dst, append(out, '\n'), 0o644)
}

// invokeWant is what each events/ file must answer under `sam local
// invoke` against a fresh table and the simulator: the sample events carry
// a code and a token that were never issued, so the routes refuse them
// (after asking WeChat, for the code), and the scheduled run refreshes the
// access token and builds the day's board. Each answer needs the function
// to have run in its container and, where noted, reached the host.
var invokeWant = map[string]func(out []byte) error{
	"session.json":   wantError(http.StatusBadRequest, "INVALID_CODE"), // WeChat (the simulator) refused the code
	"decrypt.json":   wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
	"cloudid.json":   wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
	"steps.json":     wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
	"summary.json":   wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
	"scheduled.json": wantRefresh, // the simulator's token, dynalite's table
	// SocialFunction's routes.
	"profile.json":        wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
	"group.json":          wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
	"group-board.json":    wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
	"friends.json":        wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
	"friends-invite.json": wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
	"friends-board.json":  wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
	// AccountFunction's routes.
	"export.json":    wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
	"delete-me.json": wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
	// ChallengeFunction's routes.
	"challenge.json":    wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
	"event-export.json": wantError(http.StatusUnauthorized, "INVALID_TOKEN"),
}

func wantError(status int, code string) func([]byte) error {
	return func(out []byte) error {
		var resp struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			return fmt.Errorf("not an API Gateway response: %v: %q", err, out)
		}
		var body struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal([]byte(resp.Body), &body)
		if resp.StatusCode != status || body.Error.Code != code {
			return fmt.Errorf("got %d %s, want %d %s: %s", resp.StatusCode, body.Error.Code, status, code, resp.Body)
		}
		return nil
	}
}

func wantRefresh(out []byte) error {
	var r struct {
		TokenRefreshed bool     `json:"tokenRefreshed"`
		Boards         []string `json:"boards"`
	}
	if err := json.Unmarshal(out, &r); err != nil || !r.TokenRefreshed || len(r.Boards) == 0 {
		return fmt.Errorf("want a refreshed token and a board: %q", out)
	}
	return nil
}

// eventFunction is the function an events/ file is for: the one serving
// its route, or the scheduled one for an event without a route.
func eventFunction(fns []template.Function, event []byte) (string, error) {
	var e struct {
		RouteKey   string `json:"routeKey"`
		DetailType string `json:"detail-type"`
	}
	if err := json.Unmarshal(event, &e); err != nil {
		return "", err
	}
	for _, f := range fns {
		for _, r := range f.Routes {
			if e.RouteKey != "" && r.Key() == e.RouteKey {
				return f.LogicalID, nil
			}
		}
		if e.RouteKey == "" && e.DetailType == "Scheduled Event" && len(f.Schedules) > 0 {
			return f.LogicalID, nil
		}
	}
	return "", fmt.Errorf("no function serves route %q / %q", e.RouteKey, e.DetailType)
}

// sampleEvents are the events/ files but the env-vars file.
func sampleEvents() []string {
	files, _ := filepath.Glob("events/*.json")
	var events []string
	for _, f := range files {
		if filepath.Base(f) != "env.json" {
			events = append(events, f)
		}
	}
	return events
}

// checkInvokes runs `sam local invoke` for every events/ file and checks
// that every function was invoked.
func checkInvokes(ctx context.Context, sam string, t *template.Template, common []string, r *report) {
	fns, err := t.Functions()
	if err != nil {
		r.check("template", err)
		return
	}
	invoked := map[string]bool{}
	for _, file := range sampleEvents() {
		name := filepath.Base(file)
		want, ok := invokeWant[name]
		if !ok {
			r.check("invoke "+file, errors.New("no expected answer for this event (add it to invokeWant)"))
			continue
		}
		event, err := os.ReadFile(file)
		if err != nil {
			r.check("invoke "+file, err)
			continue
		}
		id, err := eventFunction(fns, event)
		if err != nil {
			r.check("invoke "+file, err)
			continue
		}
		invoked[id] = true
		log := filepath.Join(Dir, "invoke-"+strings.TrimSuffix(name, ".json")+".log")
		out, err := samInvoke(ctx, sam, log, append([]string{"local", "invoke", id, "--event", file}, common...))
		if err == nil {
			err = want(out)
		}
		r.check(fmt.Sprintf("sam local invoke %s -e %s", id, file), err)
	}
	for _, f := range fns {
		if !invoked[f.LogicalID] {
			r.check("invoke "+f.LogicalID, errors.New("no events/ file for this function"))
		}
	}
}

// samInvoke runs one `sam local invoke`: the answer is the last line on
// stdout, the function's and SAM's logs go to log.
func samInvoke(ctx context.Context, sam, log string, args []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, sam, args...)
	cmd.Env = samEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	_ = os.WriteFile(log, append(stderr.Bytes(), stdout.Bytes()...), 0o644)
	if err != nil {
		return nil, fmt.Errorf("%v (log: %s)\n%s", err, log, tail(stderr.Bytes(), 20))
	}
	lines := bytes.Split(bytes.TrimSpace(stdout.Bytes()), []byte("\n"))
	return lines[len(lines)-1], nil
}

// tail is the last n lines of b.
func tail(b []byte, n int) []byte {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, []byte("\n"))
}

// samAPI is a running `sam local start-api`.
type samAPI struct {
	proc *services.Proc
	log  string
}

func startAPI(sam string, args []string) (*samAPI, error) {
	log := filepath.Join(Dir, "start-api.log")
	f, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	p, err := (&services.Procs{}).Start("sam local start-api", samEnv(), f, sam, args...)
	f.Close()
	if err != nil {
		return nil, err
	}
	return &samAPI{proc: p, log: log}, nil
}

// stop ends start-api with SIGTERM and gives it time to remove its warm
// containers (about a second each), then removes any it left.
func (a *samAPI) stop() {
	a.proc.StopWithin(60 * time.Second)
	removeOurContainers()
}

// removeOurContainers removes SAM's Lambda containers that mount this
// checkout's build, the ones a killed SAM CLI can leave behind; other
// checkouts' containers are left alone.
func removeOurContainers() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := docker(ctx, nil, "ps", "-aq", "--filter", "label=sam.cli.container.type=lambda")
	if err != nil {
		return
	}
	root, _ := os.Getwd()
	for _, id := range strings.Fields(string(out)) {
		m, err := docker(ctx, nil, "inspect", "--format", "{{range .Mounts}}{{.Source}} {{end}}", id)
		if err == nil && strings.Contains(string(m), filepath.Join(root, ".aws-sam")+string(filepath.Separator)) {
			_, _ = docker(ctx, nil, "rm", "-f", id)
		}
	}
}

// checkCurlFlow is the README's curl flow through start-api: log in with
// the simulator, a session, the WeRun data decrypted and read back, and the
// same data as a cloudID (which changes nothing) and the summary.
func checkCurlFlow(ctx context.Context, apiURL, simURL string, r *report) {
	c := &flowClient{ctx: ctx, hc: &http.Client{Timeout: 60 * time.Second}}
	const openid = "o-sam-local"
	var login struct{ Code string }
	r.check("simulator POST /_sim/login", c.do("POST", simURL+"/_sim/login", "", map[string]any{"openid": openid}, http.StatusOK, &login))
	var sess struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expiresIn"`
	}
	err := c.do("POST", apiURL+"/v1/session", "", map[string]any{"code": login.Code}, http.StatusOK, &sess)
	if err == nil && sess.Token == "" {
		err = errors.New("no token in the answer")
	}
	r.check("start-api POST /v1/session", err)
	if sess.Token == "" {
		return
	}
	var werun struct {
		EncryptedData string `json:"encryptedData"`
		IV            string `json:"iv"`
		CloudID       string `json:"cloudID"`
	}
	r.check("simulator POST /_sim/werun", c.do("POST", simURL+"/_sim/werun", "", map[string]any{"openid": openid, "days": 7}, http.StatusOK, &werun))
	var synced struct {
		Days    []flowDay `json:"days"`
		Changed int       `json:"changed"`
	}
	err = c.do("POST", apiURL+"/v1/werun/decrypt", sess.Token, map[string]any{"encryptedData": werun.EncryptedData, "iv": werun.IV}, http.StatusOK, &synced)
	if err == nil && (len(synced.Days) == 0 || synced.Changed != len(synced.Days)) {
		err = fmt.Errorf("want every day new: %d days, %d changed", len(synced.Days), synced.Changed)
	}
	r.check("start-api POST /v1/werun/decrypt", err)

	var read struct {
		Days []flowDay `json:"days"`
	}
	err = c.do("GET", apiURL+"/v1/steps", sess.Token, nil, http.StatusOK, &read)
	if err == nil && fmt.Sprint(read.Days) != fmt.Sprint(synced.Days) {
		err = fmt.Errorf("read back %v, synced %v", read.Days, synced.Days)
	}
	r.check("start-api GET /v1/steps", err)

	var again struct {
		Changed int `json:"changed"`
	}
	err = c.do("POST", apiURL+"/v1/werun/cloudid", sess.Token, map[string]any{"cloudID": werun.CloudID}, http.StatusOK, &again)
	if err == nil && again.Changed != 0 {
		err = fmt.Errorf("the same data as a cloudID changed %d days, want 0", again.Changed)
	}
	r.check("start-api POST /v1/werun/cloudid", err)

	var sum struct {
		Date  string `json:"date"`
		Last7 int64  `json:"last7"`
	}
	err = c.do("GET", apiURL+"/v1/steps/summary", sess.Token, nil, http.StatusOK, &sum)
	if err == nil {
		if want := last7(synced.Days, sum.Date); sum.Last7 != want {
			err = fmt.Errorf("last7 %d on %s, want %d from the synced days", sum.Last7, sum.Date, want)
		}
	}
	r.check("start-api GET /v1/steps/summary", err)
}

// flowDay is a day as the API answers it.
type flowDay struct {
	Date  string `json:"date"`
	Steps int64  `json:"steps"`
}

// last7 sums the steps of the days in the week ending on date.
func last7(days []flowDay, date string) int64 {
	end, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return -1
	}
	from := end.AddDate(0, 0, -6).Format(time.DateOnly)
	var n int64
	for _, d := range days {
		if d.Date >= from && d.Date <= date {
			n += d.Steps
		}
	}
	return n
}

// flowClient sends the flow's JSON requests.
type flowClient struct {
	ctx context.Context
	hc  *http.Client
}

// do sends body as JSON (with a bearer token when given) and decodes the
// answer into out when it has the wanted status.
func (c *flowClient) do(method, url, token string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.ctx, method, url, rd)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: got %d, want %d: %s", method, url, resp.StatusCode, want, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %v: %s", method, url, err, b)
	}
	return nil
}
