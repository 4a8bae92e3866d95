// Package app is the registry of the Lambda functions (logical id, folder,
// the secrets each reads, its handler) and assembles a function's service
// from its configuration once per container, so every
// functions/<name>/main.go is a few lines: build the handler, hand it to
// lambda.Start. The IAM and contract tests read the same registry.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/shared/account"
	"github.com/werun-sam/werun-sam/shared/config"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/display"
	"github.com/werun-sam/werun-sam/shared/metrics"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/usersteps"
	"github.com/werun-sam/werun-sam/shared/wechat"
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

// UseCases reads the configuration and builds the use cases. Lambda logs lines
// written to stdout; with the template's JSON log format, slog's JSON lines
// arrive as structured records.
func UseCases(ctx context.Context, needs Needs) (*usecases.Set, error) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	metrics.SetNamespace(config.Env("METRICS_NAMESPACE", metrics.DefaultNamespace))
	appID, err := config.Required("WECHAT_APPID")
	if err != nil {
		return nil, err
	}
	table, err := config.Required("TABLE_NAME")
	if err != nil {
		return nil, err
	}
	maxAge, err := config.Duration("WATERMARK_MAX_AGE", crypto.DefaultMaxAge)
	if err != nil {
		return nil, err
	}
	deletionDelay, err := config.Duration("DELETION_DELAY", account.DeletionDelay)
	if err != nil {
		return nil, err
	}
	goal, err := config.Int("DAILY_GOAL", usersteps.DefaultGoal)
	if err != nil {
		return nil, err
	}
	avatarHosts, err := display.NewHosts(config.List("AVATAR_HOSTS")...)
	if err != nil {
		return nil, fmt.Errorf("config: AVATAR_HOSTS: %w: %w", config.ErrInvalid, err)
	}
	var (
		days   day.Rules
		limits social.Limits
	)
	for _, c := range []struct {
		name string
		def  int
		into func(int)
	}{
		{"MEMBERSHIP_DAYS", social.DefaultMembershipDays, func(v int) { limits.MembershipDays = v }},
		{"MAX_BOARD_STEPS", day.DefaultMaxBoardSteps, func(v int) { days.MaxBoardSteps = int64(v) }},
		{"MAX_STEPS_PER_MINUTE", day.DefaultMaxStepsPerMinute, func(v int) { days.MaxStepsPerMinute = int64(v) }},
		{"RETENTION_DAYS", day.DefaultRetentionDays, func(v int) { days.RetentionDays = v }},
	} {
		v, err := config.Int(c.name, c.def)
		if err != nil {
			return nil, err
		}
		c.into(v)
	}
	var signer *crypto.Signer
	if needs.SessionTokens {
		if signer, err = newSigner(ctx); err != nil {
			return nil, err
		}
	}
	var secret string
	if needs.AppSecret {
		if secret, err = config.Secret(ctx, "WECHAT_SECRET"); err != nil {
			return nil, err
		}
	}
	cfg, err := config.AWS(ctx)
	if err != nil {
		return nil, err
	}
	st := store.New(dynamodb.NewFromConfig(cfg), table)
	wc := wechat.NewClient(config.Env("WECHAT_API_BASE", ""), appID, secret, nil)
	return usecases.New(usecases.Config{
		AppID: appID, Store: st, WeChat: wc, Signer: signer, MaxAge: maxAge, Goal: int64(goal), Days: days, Limits: limits,
		AvatarHosts: avatarHosts, DeletionDelay: deletionDelay,
	}), nil
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
