// Package app is the registry of the Lambda functions (logical id, folder,
// the secrets each reads, its handler) and assembles a function's service
// from its configuration once per container, so every
// functions/<name>/main.go is a few lines: build the handler, hand it to
// lambda.Start. The secrets that rotate are kept fresh without a deploy:
// the signing keys re-read periodically before an invocation, the
// AppSecret when WeChat refuses it. The IAM and contract tests read the
// same registry.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/shared/account"
	"github.com/werun-sam/werun-sam/shared/config"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/display"
	"github.com/werun-sam/werun-sam/shared/metrics"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
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

// Rotation of the secrets a container holds (README, Rotating secrets).
const (
	// DefaultSigningKeysMaxAge is how long a container uses the signing keys
	// it read before it reads them again (SIGNING_KEYS_MAX_AGE), plus up to
	// a quarter more at random: a rotation's phases are this long and a
	// quarter apart.
	DefaultSigningKeysMaxAge = 5 * time.Minute
	// SecretRereadGap is the shortest time between two re-reads of the
	// AppSecret in a container after WeChat refused it (plus up to a quarter
	// more at random).
	SecretRereadGap = 30 * time.Second
)

// UseCases reads the configuration and builds the use cases. Lambda logs
// lines written to stdout; with the template's JSON log format, slog's JSON
// lines arrive as structured records.
func UseCases(ctx context.Context, needs Needs) (*usecases.Set, error) {
	u, _, err := useCases(ctx, needs)
	return u, err
}

// useCases is UseCases, with the signing keys the handler keeps fresh (nil
// for a function without session tokens).
func useCases(ctx context.Context, needs Needs, with ...func(*usecases.Config)) (*usecases.Set, *signingKeys, error) {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	metrics.SetNamespace(config.Env("METRICS_NAMESPACE", metrics.DefaultNamespace))
	appID, err := config.Required("WECHAT_APPID")
	if err != nil {
		return nil, nil, err
	}
	table, err := config.Required("TABLE_NAME")
	if err != nil {
		return nil, nil, err
	}
	maxAge, err := config.Duration("WATERMARK_MAX_AGE", crypto.DefaultMaxAge)
	if err != nil {
		return nil, nil, err
	}
	goal, err := config.Int("DAILY_GOAL", usersteps.DefaultGoal)
	if err != nil {
		return nil, nil, err
	}
	deletionDelay, err := config.Duration("DELETION_DELAY", account.DefaultDeletionDelay)
	if err != nil {
		return nil, nil, err
	}
	avatarHosts, err := display.NewHosts(config.List("AVATAR_HOSTS")...)
	if err != nil {
		return nil, nil, fmt.Errorf("config: AVATAR_HOSTS: %w: %w", config.ErrInvalid, err)
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
		{"MAX_GROUP_MEMBERS", social.DefaultGroupMembers, func(v int) { limits.GroupMembers = v }},
		{"MAX_USER_GROUPS", social.DefaultUserGroups, func(v int) { limits.UserGroups = v }},
		{"MAX_FRIENDS", social.DefaultFriends, func(v int) { limits.Friends = v }},
		{"MAX_BOARD_STEPS", day.DefaultMaxBoardSteps, func(v int) { days.MaxBoardSteps = int64(v) }},
		{"MAX_STEPS_PER_MINUTE", day.DefaultMaxStepsPerMinute, func(v int) { days.MaxStepsPerMinute = int64(v) }},
		{"RETENTION_DAYS", day.DefaultRetentionDays, func(v int) { days.RetentionDays = v }},
	} {
		v, err := config.Int(c.name, c.def)
		if err != nil {
			return nil, nil, err
		}
		c.into(v)
	}
	var keys *signingKeys
	var signer *crypto.Signer
	if needs.SessionTokens {
		if keys, err = newSigningKeys(ctx); err != nil {
			return nil, nil, err
		}
		signer = keys.signer
	}
	var secret string
	if needs.AppSecret {
		if secret, err = config.Secret(ctx, "WECHAT_SECRET"); err != nil {
			return nil, nil, err
		}
	}
	cfg, err := config.AWS(ctx)
	if err != nil {
		return nil, nil, err
	}
	st := store.New(dynamodb.NewFromConfig(cfg), table)
	wc := wechat.NewClient(config.Env("WECHAT_API_BASE", ""), appID, secret, nil)
	if needs.AppSecret {
		wc.ReloadSecretWith(func(ctx context.Context) (string, error) {
			s, err := config.Reread(ctx, "WECHAT_SECRET", SecretRereadGap)
			if err != nil {
				slog.WarnContext(ctx, "re-reading the AppSecret failed", "err", err.Error())
			}
			return s, err
		})
	}
	uc := usecases.Config{
		AppID: appID, Store: st, Events: eventstore.New(st.Table()), WeChat: wc, Signer: signer, MaxAge: maxAge, Goal: int64(goal), Days: days, Limits: limits,
		AvatarHosts: avatarHosts, DeletionDelay: deletionDelay,
	}
	for _, w := range with {
		w(&uc)
	}
	return usecases.New(uc), keys, nil
}

// Fatal logs why a container cannot start and exits; Lambda reports the
// init failure and retries on the next request.
func Fatal(err error) {
	slog.Error("init failed", "err", err.Error())
	os.Exit(1)
}

// signingKeys keeps a signer's keys as SSM has them, re-read every maxAge.
type signingKeys struct {
	signer *crypto.Signer
	maxAge time.Duration

	mu      sync.Mutex
	applied string // the key list the signer has
}

// newSigningKeys reads the keys and the stack that tokens name (STACK_NAME).
func newSigningKeys(ctx context.Context) (*signingKeys, error) {
	maxAge, err := config.Duration("SIGNING_KEYS_MAX_AGE", DefaultSigningKeysMaxAge)
	if err != nil {
		return nil, err
	}
	list, err := config.Secret(ctx, "SESSION_SIGNING_KEY")
	if err != nil {
		return nil, err
	}
	parsed, err := crypto.ParseSigningKeys(list)
	if err != nil {
		return nil, err
	}
	signer, err := crypto.NewStackSigner(config.Env("STACK_NAME", ""), parsed...)
	if err != nil {
		return nil, err
	}
	return &signingKeys{signer: signer, maxAge: maxAge, applied: list}, nil
}

// refresh gives the signer the key list SSM has now, when a re-read is
// due. A failed read or an unusable list keeps the keys the signer has:
// the tokens it accepts stay valid, and the log says why.
func (k *signingKeys) refresh(ctx context.Context) {
	list, err := config.Fresh(ctx, "SESSION_SIGNING_KEY", k.maxAge)
	if err != nil {
		slog.WarnContext(ctx, "re-reading the signing keys failed; keeping those read before", "err", err.Error())
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if list == k.applied {
		return
	}
	parsed, err := crypto.ParseSigningKeys(list)
	if err == nil {
		err = k.signer.SetKeys(parsed...)
	}
	if err != nil {
		slog.WarnContext(ctx, "the signing keys read are unusable; keeping those read before", "err", err.Error())
		return
	}
	k.applied = list
}

// freshKeys is a handler that brings the signing keys up to date before
// each invocation.
type freshKeys struct {
	lambda.Handler
	keys *signingKeys
}

func (h freshKeys) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	h.keys.refresh(ctx)
	return h.Handler.Invoke(ctx, payload)
}
