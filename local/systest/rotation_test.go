package systest

// Rotating a secret without an outage, through the built functions under
// the emulator, reading their secrets from SSM (moto) as deployed: a
// container that was warm before a rotation keeps working after it.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/local/emulator"
	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/config"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

const (
	rotationAppID   = "wx0123456789abcdef"
	rotationOldKey  = "rotation-old-signing-key-0123456789abcdef"
	rotationNewKey  = "rotation-new-signing-key-0123456789abcdef"
	rotationSecret1 = "rotation-app-secret-1"
	rotationSecret2 = "rotation-app-secret-2"
)

// rotation is one test's SSM parameters, simulator and table.
type rotation struct {
	t            *testing.T
	sim          *wechattest.Server
	ssm          *ssm.Client
	secret, keys string // SSM parameter names
	over         stack.Overrides
	procs        *services.Procs
	log          io.Writer
}

func newRotation(t *testing.T) *rotation {
	t.Helper()
	env := services.ForTests(t, services.Need{DynamoDB: true, SSM: true})
	cfg, err := config.AWS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	prefix := "/werun-test/rotation-" + stack.RandomKey()[:8]
	r := &rotation{
		t: t, sim: wechattest.NewServer(rotationAppID, rotationSecret1), ssm: ssm.NewFromConfig(cfg),
		secret: prefix + "/wechat-secret", keys: prefix + "/session-signing-key",
		procs: &services.Procs{}, log: io.Discard,
	}
	t.Cleanup(r.sim.Close)
	t.Cleanup(r.procs.StopAll)
	if testing.Verbose() {
		r.log = os.Stderr
	}
	r.over = stack.Overrides{
		"TABLE_NAME": env.Table, "AWS_ENDPOINT_URL_DYNAMODB": env.DynamoDB, "AWS_ENDPOINT_URL_SSM": env.SSM,
		"WECHAT_API_BASE": r.sim.URL, "WECHAT_APPID": rotationAppID,
		// The deployed shape: no secret in the environment, its SSM name.
		"WECHAT_SECRET": "", "WECHAT_SECRET_PARAM": r.secret,
		"SESSION_SIGNING_KEY": "", "SESSION_SIGNING_KEY_PARAM": r.keys,
	}
	r.put(r.secret, rotationSecret1)
	r.put(r.keys, rotationOldKey)
	return r
}

func (r *rotation) put(name, value string) {
	r.t.Helper()
	if _, err := r.ssm.PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true),
	}); err != nil {
		r.t.Fatal(err)
	}
}

// container starts one warm container of function id; extra overrides
// its variables.
func (r *rotation) container(id string, extra stack.Overrides) *emulator.Pool {
	r.t.Helper()
	over := stack.Overrides{}
	for k, v := range r.over {
		over[k] = v
	}
	for k, v := range extra {
		over[k] = v
	}
	pool, _ := functionPool(r.t, id, over, r.procs, r.log)
	return pool
}

// call sends one API request and returns the status and the answer.
func (r *rotation) call(p *emulator.Pool, route, body, token string) (int, map[string]any) {
	r.t.Helper()
	out, err := p.Invoke(context.Background(), httpEvent(route, body, token))
	if err != nil {
		r.t.Fatalf("%s: %v", route, err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		r.t.Fatalf("%s: %s: %v", route, out, err)
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &m)
	return resp.StatusCode, m
}

// login logs openid in through the session container and returns the
// status and the token or the error code.
func (r *rotation) login(session *emulator.Pool, openid string) (int, string) {
	r.t.Helper()
	status, m := r.call(session, "POST /v1/session", `{"code":"`+r.sim.Login(openid)+`"}`, "")
	if tok, ok := m["token"].(string); ok {
		return status, tok
	}
	e, _ := m["error"].(map[string]any)
	code, _ := e["code"].(string)
	return status, code
}

func TestATokenOfTheNewSigningKeyIsAcceptedByAContainerWarmBefore(t *testing.T) {
	tests := []struct {
		name string
		// maxAge is the warm container's SIGNING_KEYS_MAX_AGE: 1ms stands
		// for "the procedure waited it out" (every request is later than
		// that), 1h for a container that has not re-read since.
		maxAge string
		want   int
	}{
		{"the warm container re-read the keys", "1ms", http.StatusOK},
		{"the warm container has not re-read them yet", "1h", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRotation(t)
			warm := r.container("StepsFunction", stack.Overrides{"SIGNING_KEYS_MAX_AGE": tt.maxAge})
			oldSession := r.container("SessionFunction", nil)
			status, oldToken := r.login(oldSession, "o-before")
			if status != http.StatusOK {
				t.Fatalf("login before the rotation: %d %s", status, oldToken)
			}
			if status, _ := r.call(warm, "GET /v1/steps", "", oldToken); status != http.StatusOK {
				t.Fatalf("the warm container refused a token of the old key: %d", status)
			}
			// Phase 1: the new key accepted, not signing; the warm container
			// reads the list on its next request.
			r.put(r.keys, rotationOldKey+","+rotationNewKey)
			if status, _ := r.call(warm, "GET /v1/steps", "", oldToken); status != http.StatusOK {
				t.Fatalf("phase 1: the old key's token: %d", status)
			}
			// Phase 2: the new key signs, in a container started now.
			r.put(r.keys, rotationNewKey+","+rotationOldKey)
			newSession := r.container("SessionFunction", nil)
			status, newToken := r.login(newSession, "o-after")
			if status != http.StatusOK {
				t.Fatalf("login after phase 2: %d %s", status, newToken)
			}
			if status, _ := r.call(warm, "GET /v1/steps", "", newToken); status != tt.want {
				t.Errorf("the warm container answered the new key's token %d, want %d", status, tt.want)
			}
			if status, _ := r.call(warm, "GET /v1/steps", "", oldToken); status != http.StatusOK {
				t.Errorf("phase 2: the old key's token: %d, want 200 until it expires", status)
			}
		})
	}
}

func TestAContainerWarmThroughAnAppSecretResetLogsUsersInOnceSSMHasTheNewSecret(t *testing.T) {
	tests := []struct {
		name      string
		updateSSM bool
		// The first login after the reset (its code may be spent), then
		// one with a new code.
		wantFirst, wantSecond int
		wantCode              string
	}{
		{"SSM has the new secret", true, http.StatusBadRequest, http.StatusOK, "INVALID_CODE"},
		{"SSM still has the old one", false, http.StatusBadGateway, http.StatusBadGateway, "WECHAT_CONFIG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRotation(t)
			session := r.container("SessionFunction", nil)
			if status, tok := r.login(session, "o-before"); status != http.StatusOK {
				t.Fatalf("login before the reset: %d %s", status, tok)
			}
			r.sim.ResetSecret(rotationSecret2)
			if tt.updateSSM {
				r.put(r.secret, rotationSecret2)
			}
			if status, code := r.login(session, "o-during"); status != tt.wantFirst || code != tt.wantCode {
				t.Errorf("first login after the reset: %d %s, want %d %s", status, code, tt.wantFirst, tt.wantCode)
			}
			if status, tok := r.login(session, "o-during"); status != tt.wantSecond {
				t.Errorf("login with a new code: %d %s, want %d", status, tok, tt.wantSecond)
			}
		})
	}
}
