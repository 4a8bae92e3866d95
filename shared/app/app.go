// Package app is the registry of the Lambda functions (logical id, folder,
// the secrets each reads, its handler) and assembles a function's service
// from its configuration once per container, so every
// functions/<name>/main.go is a few lines: build the handler, hand it to
// lambda.Start. The IAM and contract tests read the same registry.
package app

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/shared/challenge"
	"github.com/werun-sam/werun-sam/shared/config"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/metrics"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
	"github.com/werun-sam/werun-sam/shared/werun"
)

// Needs says which secrets a function reads, so each reads only its own and
// its IAM policy allows only those: the HTTP functions verify session tokens,
// the functions that call WeChat hold the AppSecret.
type Needs struct {
	AppSecret     bool
	SessionTokens bool
	// LoginCodes: it redeems wx.login codes, so it reads the records of
	// redeemed codes (which hold session keys); no other function may.
	LoginCodes bool
	// StoredSecrets: it reads the secrets kept in the table, users' session
	// keys or the WeChat access token. A function without it reads only
	// with projections that leave them out, and its policy denies the rest.
	StoredSecrets bool
}

// Services are what a function's handler is built over: the use cases of
// package werun and of the step challenges, which a sync credits.
type Services struct {
	Werun     *werun.Service
	Challenge *challenge.Service
}

// Service reads the configuration and builds the services. Lambda logs lines
// written to stdout; with the template's JSON log format, slog's JSON lines
// arrive as structured records.
func Service(ctx context.Context, needs Needs) (Services, error) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	metrics.SetNamespace(config.Env("METRICS_NAMESPACE", metrics.DefaultNamespace))
	appID, err := config.Required("WECHAT_APPID")
	if err != nil {
		return Services{}, err
	}
	table, err := config.Required("TABLE_NAME")
	if err != nil {
		return Services{}, err
	}
	maxAge, err := config.Duration("WATERMARK_MAX_AGE", crypto.DefaultMaxAge)
	if err != nil {
		return Services{}, err
	}
	goal, err := config.Int("DAILY_GOAL", werun.DefaultGoal)
	if err != nil {
		return Services{}, err
	}
	var rules werun.SocialRules
	retention := 0
	for _, c := range []struct {
		name string
		def  int
		into func(int)
	}{
		{"MEMBERSHIP_DAYS", werun.DefaultMembershipDays, func(v int) { rules.MembershipDays = v }},
		{"MAX_BOARD_STEPS", werun.DefaultMaxBoardSteps, func(v int) { rules.MaxBoardSteps = int64(v) }},
		{"MAX_STEPS_PER_MINUTE", werun.DefaultMaxStepsPerMinute, func(v int) { rules.MaxStepsPerMinute = int64(v) }},
		{"RETENTION_DAYS", werun.DefaultRetentionDays, func(v int) { retention = v }},
	} {
		v, err := config.Int(c.name, c.def)
		if err != nil {
			return Services{}, err
		}
		c.into(v)
	}
	var signer *crypto.Signer
	if needs.SessionTokens {
		if signer, err = newSigner(ctx); err != nil {
			return Services{}, err
		}
	}
	var secret string
	if needs.AppSecret {
		if secret, err = config.Secret(ctx, "WECHAT_SECRET"); err != nil {
			return Services{}, err
		}
	}
	cfg, err := config.AWS(ctx)
	if err != nil {
		return Services{}, err
	}
	st := store.New(dynamodb.NewFromConfig(cfg), table)
	wc := wechat.NewClient(config.Env("WECHAT_API_BASE", ""), appID, secret, nil)
	return Assemble(werun.Config{
		AppID: appID, Store: st, WeChat: wc, Signer: signer, MaxAge: maxAge, Goal: int64(goal), Social: rules,
		RetentionDays: retention,
	}, challenge.Config{
		Store: st, DailyGoal: int64(goal), MaxBoardSteps: rules.MaxBoardSteps,
		MaxStepsPerMinute: rules.MaxStepsPerMinute, RetentionDays: retention, Window: steps.WindowDays,
	}), nil
}

// Assemble builds the services and ties them: werun's syncs credit the
// challenges, whose names werun's content check judges.
func Assemble(w werun.Config, c challenge.Config) Services {
	var out Services
	c.Text = textChecker{&out}
	out.Challenge = challenge.New(c)
	w.Events = out.Challenge
	out.Werun = werun.New(w)
	return out
}

// textChecker lends the challenges werun's content check, which is built
// after them (werun credits the challenges).
type textChecker struct{ s *Services }

func (t textChecker) CheckText(ctx context.Context, openid, text string) (bool, error) {
	return t.s.Werun.CheckText(ctx, openid, text)
}

// Fatal logs why a container cannot start and exits; Lambda reports the
// init failure and retries on the next request.
func Fatal(err error) {
	slog.Error("init failed", "err", err.Error())
	os.Exit(1)
}

func newSigner(ctx context.Context) (*crypto.Signer, error) {
	keys, err := config.Secret(ctx, "SESSION_SIGNING_KEY")
	if err != nil {
		return nil, err
	}
	parsed, err := crypto.ParseSigningKeys(keys)
	if err != nil {
		return nil, err
	}
	return crypto.NewSigner(parsed...)
}
