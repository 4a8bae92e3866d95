// Package testenv builds the world the integration tests of werun and api
// run in: the real DynamoDB store (dynalite, from local/services: the one
// `make test` started, or one started for this test binary), the WeChat
// simulator, and a clock they share. It is used only by tests.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/local/services"
	"github.com/werun-sam/werun-sam/shared/config"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
	"github.com/werun-sam/werun-sam/shared/werun"
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
// goal) before werun.New.
func (e *Env) Config(t testing.TB) werun.Config {
	t.Helper()
	signer, err := crypto.NewSigner(e.SigningKey)
	if err != nil {
		t.Fatal(err)
	}
	return werun.Config{
		AppID: e.AppID, Store: e.Store, WeChat: wechat.NewClient(e.Sim.URL, e.AppID, e.Secret, nil),
		Signer: signer, Now: e.Clock.Now, TokenPoll: 10 * time.Millisecond,
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

// Service is one container's service, with its own access-token cache.
func (e *Env) Service(t testing.TB) *werun.Service {
	t.Helper()
	return werun.New(e.Config(t))
}

// UniqueID is prefix and a random suffix: unique across runs against the
// same table.
func UniqueID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
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
