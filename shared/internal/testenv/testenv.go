// Package testenv builds the world the integration tests of the use cases and api
// run in: the real DynamoDB store (dynalite, from internal/services: the one
// `make test` started, or one started for this test binary), the WeChat
// simulator, and a clock they share. It is used only by tests.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/shared/account"
	"github.com/werun-sam/werun-sam/shared/config"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/wechat"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// Clock runs at real speed from a time the test sets, so the order of
// events (session keys issued one after another) stays real.
type Clock struct {
	mu      sync.Mutex
	t, real time.Time
}

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t.Add(time.Since(c.real))
}

func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.t, c.real = t, time.Now(); c.mu.Unlock() }

// Store is the local services' table, reached through config.AWS with opts
// applied to the DynamoDB client. It never runs against a real account and
// never skips: without the services' tools the test fails, naming `make tools`.
func Store(t testing.TB, opts ...func(*dynamodb.Options)) *store.DynamoStore {
	t.Helper()
	table := services.ForTests(t, services.Need{DynamoDB: true}).Table
	cfg, err := config.AWS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return store.New(dynamodb.NewFromConfig(cfg, opts...), table)
}

// Env is one test's world: the simulator of app AppID, the real store and
// the clock both share. SigningKey signs the tokens of the services built
// after it is set.
type Env struct {
	Sim           *wechattest.Server
	Store         *store.DynamoStore
	Clock         *Clock
	AppID, Secret string
	SigningKey    []byte
}

// New builds an Env whose clock reads now; the simulator is closed when the
// test ends.
func New(t testing.TB, appID, secret string, now time.Time) *Env {
	t.Helper()
	e := &Env{
		Store:      Store(t),
		Sim:        wechattest.NewServer(appID, secret),
		Clock:      &Clock{},
		AppID:      appID,
		Secret:     secret,
		SigningKey: []byte("0123456789abcdef0123456789abcdef"),
	}
	e.Clock.Set(now)
	e.Sim.SetNow(e.Clock.Now)
	t.Cleanup(e.Sim.Close)
	return e
}

// Config is one container's worth of dependencies: its own WeChat client
// over the shared table and simulator. Tests change a field (the store, the
// goal) before usecases.New.
func (e *Env) Config(t testing.TB) usecases.Config {
	t.Helper()
	signer, err := crypto.NewSigner(e.SigningKey)
	if err != nil {
		t.Fatal(err)
	}
	return usecases.Config{
		AppID: e.AppID, Store: e.Store, Events: eventstore.New(e.Store.Table()), WeChat: wechat.NewClient(e.Sim.URL, e.AppID, e.Secret, nil),
		Signer: signer, Now: e.Clock.Now, TokenPoll: 10 * time.Millisecond,
		DeletionDelay: account.DefaultDeletionDelay,
	}
}

// Token is a session token for openid, valid for an hour of the clock.
func (e *Env) Token(t testing.TB, openid string) string {
	t.Helper()
	signer, err := crypto.NewSigner(e.SigningKey)
	if err != nil {
		t.Fatal(err)
	}
	return signer.Sign(crypto.Claims{OpenID: openid, Account: "test-account", ExpiresAt: e.Clock.Now().Add(time.Hour)})
}

// Service is one container's use cases, with their own caches.
func (e *Env) Service(t testing.TB) *usecases.Set {
	t.Helper()
	return usecases.New(e.Config(t))
}

// UniqueID is prefix and a random suffix: unique across runs against the
// same table.
func UniqueID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// The app most tests run as; NewApp makes one of a test's own.
const (
	AppID  = "wxtestapp0000001"
	Secret = "test-app-secret"
)

// NewApp is an env for an app of its own: the shared access-token record
// (APP#<appid>) and the published boards are per app, so a test that counts
// token fetches or reads a board is not disturbed by the other tests' records
// in the same table.
func NewApp(t testing.TB, now time.Time) *Env {
	t.Helper()
	return New(t, UniqueID("wxapp"), Secret, now)
}

// Timeout is a context that ends after d or with the test.
func Timeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// BoardDay is a day far in the future at noon CST, different each call: a
// test that counts a day's users needs a day no other test (or earlier run
// against the same table) wrote to.
func BoardDay() time.Time {
	return time.Date(2040, 1, 1, 12, 0, 0, 0, steps.CST).AddDate(0, 0, mrand.IntN(40*365))
}

// History is a step list ending today (as of now), oldest first.
func History(now time.Time, counts ...int64) []wechattest.StepInfo {
	t := now.In(steps.CST)
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, steps.CST)
	list := make([]wechattest.StepInfo, len(counts))
	for i, n := range counts {
		list[i] = wechattest.StepInfo{Timestamp: today.AddDate(0, 0, i-len(counts)+1).Unix(), Step: n}
	}
	return list
}

// SyncCounts syncs the user's counts (ending today) through a cloudID.
func (e *Env) SyncCounts(t testing.TB, u *usecases.Set, openid string, counts ...int64) {
	t.Helper()
	now := e.Clock.Now()
	id := e.Sim.CloudID(openid, History(now, counts...), now)
	if _, err := u.Steps.SyncCloudID(Timeout(t, 20*time.Second), session.Caller{OpenID: openid, Account: "a1"}, id); err != nil {
		t.Fatalf("sync %s: %v", openid, err)
	}
}

// Login logs openid in through u.
func (e *Env) Login(t testing.TB, u *usecases.Set, openid string) {
	t.Helper()
	if _, err := u.Sessions.Login(context.Background(), e.Sim.Login(openid)); err != nil {
		t.Fatalf("login: %v", err)
	}
}

// Total is the sum of days' steps.
func Total(days []steps.Day) (n int64) {
	for _, d := range days {
		n += d.Steps
	}
	return n
}

// Exclude is the README's operator command, through the SDK: it keeps the
// member off every board.
func Exclude(t testing.TB, memberID string) {
	t.Helper()
	cfg, err := config.AWS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = dynamodb.NewFromConfig(cfg).PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(os.Getenv("TABLE_NAME")),
		Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "EXCLUDED"},
			"SK": &types.AttributeValueMemberS{Value: "MEMBER#" + memberID},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}
