package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/shared/config"
)

// newTestStore returns a store on the local stack's table. The tests share
// the table, so each uses its own random openid.
func newTestStore(t *testing.T) (*DynamoStore, context.Context) {
	t.Helper()
	table := services.ForTests(t, services.Need{DynamoDB: true}).Table
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	cfg, err := config.AWS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return New(dynamodb.NewFromConfig(cfg), table), ctx
}

func uniqueID(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func mustWrite(t *testing.T, ctx context.Context, st *DynamoStore, openid string, days ...Day) []Day {
	t.Helper()
	w, err := st.WriteDays(ctx, openid, days)
	if err != nil {
		t.Fatalf("WriteDays: %v", err)
	}
	return w
}

func TestLoadUserReadsWindowAndKeys(t *testing.T) {
	st, ctx := newTestStore(t)
	openid := uniqueID("load")
	mustWrite(t, ctx, st, openid,
		Day{Date: "2025-01-30", Steps: 1}, // before the window
		Day{Date: "2025-01-31", Steps: 2}, // before the window
		Day{Date: "2025-02-02", Steps: 30, SourceTS: 1738425600, Source: "encryptedData"},
		Day{Date: "2025-02-01", Steps: 0},
		Day{Date: "2025-03-03", Steps: 40},
	)
	base := time.Now().Add(-time.Hour)
	for i, key := range []string{"k1", "k2", "k3"} {
		if err := st.AddSessionKey(ctx, openid, SessionKey{Key: key, IssuedAt: base.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	// Another user's data must not leak in.
	mustWrite(t, ctx, st, openid+"x", Day{Date: "2025-02-05", Steps: 9})

	u, err := st.LoadUser(ctx, openid, "2025-02-01")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range u.Days {
		got = append(got, fmt.Sprintf("%s=%d", d.Date, d.Steps))
	}
	if want := "2025-02-01=0 2025-02-02=30 2025-03-03=40"; strings.Join(got, " ") != want {
		t.Fatalf("days = %v, want %s", got, want)
	}
	if d := u.Days[1]; d.SourceTS != 1738425600 || d.Source != "encryptedData" || time.Since(d.UpdatedAt) > time.Minute {
		t.Errorf("day fields not round-tripped: %+v", d)
	}
	var keys []string
	for _, k := range u.SessionKeys {
		keys = append(keys, k.Key)
	}
	if strings.Join(keys, ",") != "k3,k2,k1" {
		t.Errorf("keys = %v, want newest first k3,k2,k1", keys)
	}
	if !u.SessionKeys[0].IssuedAt.Equal(base.Add(2 * time.Minute)) {
		t.Errorf("IssuedAt = %v, want %v", u.SessionKeys[0].IssuedAt, base.Add(2*time.Minute))
	}
}

func TestLoadUserOfUnknownUserIsEmpty(t *testing.T) {
	st, ctx := newTestStore(t)
	u, err := st.LoadUser(ctx, uniqueID("nobody"), "2025-01-01")
	if err != nil || len(u.Days) != 0 || len(u.SessionKeys) != 0 {
		t.Fatalf("LoadUser = %+v, %v; want empty", u, err)
	}
}

func TestWriteDaysIsMonotonic(t *testing.T) {
	st, ctx := newTestStore(t)
	openid := uniqueID("mono")
	w := mustWrite(t, ctx, st, openid, Day{Date: "2025-02-01", Steps: 100}, Day{Date: "2025-02-02", Steps: 0})
	if len(w) != 2 {
		t.Fatalf("first write wrote %v, want both days", w)
	}

	tests := []struct {
		name      string
		steps     int64
		wantWrite bool
		wantKept  int64
	}{
		{"lower count keeps stored", 50, false, 100},
		{"equal count is not written", 100, false, 100},
		{"higher count is written", 150, true, 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := mustWrite(t, ctx, st, openid, Day{Date: "2025-02-01", Steps: tt.steps})
			if (len(w) == 1) != tt.wantWrite {
				t.Errorf("written = %v, want written=%v", w, tt.wantWrite)
			}
			u, err := st.LoadUser(ctx, openid, "2025-02-01")
			if err != nil {
				t.Fatal(err)
			}
			if u.Days[0].Steps != tt.wantKept {
				t.Errorf("stored = %d, want %d", u.Days[0].Steps, tt.wantKept)
			}
		})
	}
}

func TestWriteDaysReturnsWrittenAscending(t *testing.T) {
	st, ctx := newTestStore(t)
	openid := uniqueID("batch")
	var days []Day
	for i := 31; i >= 1; i-- {
		days = append(days, Day{Date: fmt.Sprintf("2025-01-%02d", i), Steps: int64(i)})
	}
	w := mustWrite(t, ctx, st, openid, days...)
	if len(w) != 31 || w[0].Date != "2025-01-01" || w[30].Date != "2025-01-31" {
		t.Fatalf("written %d days from %v to %v, want 31 ascending", len(w), w[0].Date, w[len(w)-1].Date)
	}
	// A re-sync of the same data writes nothing.
	if w := mustWrite(t, ctx, st, openid, days...); len(w) != 0 {
		t.Fatalf("re-sync wrote %d days, want 0", len(w))
	}
}

func TestConcurrentWritersKeepTheMax(t *testing.T) {
	st, ctx := newTestStore(t)
	openid := uniqueID("race")
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 1; i <= 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := st.WriteDays(ctx, openid, []Day{{Date: "2025-02-01", Steps: int64(i * 1000)}})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	u, err := st.LoadUser(ctx, openid, "2025-02-01")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Days) != 1 || u.Days[0].Steps != 20000 {
		t.Fatalf("days = %+v, want the max 20000", u.Days)
	}
}

func TestSessionKeysTrimmedToNewestThree(t *testing.T) {
	st, ctx := newTestStore(t)
	openid := uniqueID("trim")
	base := time.Now().Add(-time.Hour)
	for i := range 5 {
		if err := st.AddSessionKey(ctx, openid, SessionKey{Key: fmt.Sprintf("k%d", i), IssuedAt: base.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := st.sessionKeySKs(ctx, openid, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.sks) != MaxSessionKeys {
		t.Errorf("%d key items stored, want %d", len(stored.sks), MaxSessionKeys)
	}
	u, err := st.LoadUser(ctx, openid, "9999-12-31")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range u.SessionKeys {
		keys = append(keys, k.Key)
	}
	if strings.Join(keys, ",") != "k4,k3,k2" {
		t.Errorf("keys = %v, want k4,k3,k2", keys)
	}
}

func TestSameSessionKeyTwiceIsStoredOnce(t *testing.T) {
	st, ctx := newTestStore(t)
	openid := uniqueID("dup")
	for i := range 2 {
		if err := st.AddSessionKey(ctx, openid, SessionKey{Key: "same", IssuedAt: time.Now().Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	u, err := st.LoadUser(ctx, openid, "9999-12-31")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.SessionKeys) != 1 {
		t.Fatalf("keys = %d, want 1", len(u.SessionKeys))
	}
}

func TestExpiredSessionKeyIsSkipped(t *testing.T) {
	st, ctx := newTestStore(t)
	openid := uniqueID("exp")
	if err := st.AddSessionKey(ctx, openid, SessionKey{Key: "old", IssuedAt: time.Now().Add(-SessionKeyTTL - time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddSessionKey(ctx, openid, SessionKey{Key: "fresh"}); err != nil {
		t.Fatal(err)
	}
	u, err := st.LoadUser(ctx, openid, "9999-12-31")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.SessionKeys) != 1 || u.SessionKeys[0].Key != "fresh" {
		t.Fatalf("%d keys, want only the fresh one", len(u.SessionKeys))
	}
}

func TestTokenLeaseHasOneHolder(t *testing.T) {
	st, ctx := newTestStore(t)
	appid := uniqueID("wxapp")
	now := time.Now()

	if _, found, err := st.GetAccessToken(ctx, appid); found || err != nil {
		t.Fatalf("GetAccessToken of a new app: found=%v err=%v", found, err)
	}

	var wins atomic.Int32
	var winner atomic.Value
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			holder := fmt.Sprintf("holder-%d", i)
			ok, err := st.AcquireTokenLease(ctx, appid, holder, now, now.Add(30*time.Second))
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
				winner.Store(holder)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d holders got the lease, want exactly 1", wins.Load())
	}
	holder := winner.Load().(string)
	other := "holder-x"

	tok, found, err := st.GetAccessToken(ctx, appid)
	if err != nil || !found || tok.LeaseHolder != holder || tok.Token != "" {
		t.Fatalf("record = %+v found=%v err=%v", tok, found, err)
	}

	if err := st.PutAccessToken(ctx, appid, other, "token-by-other", now.Add(2*time.Hour), time.Time{}); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("PutAccessToken by a non-holder = %v, want ErrLeaseLost", err)
	}
	exp := now.Add(2 * time.Hour).Truncate(time.Millisecond)
	if err := st.PutAccessToken(ctx, appid, holder, "token-1", exp, time.Time{}); err != nil {
		t.Fatalf("PutAccessToken by the holder: %v", err)
	}
	tok, _, err = st.GetAccessToken(ctx, appid)
	if err != nil || tok.Token != "token-1" || !tok.ExpiresAt.Equal(exp) || tok.LeaseHolder != "" || !tok.LeaseUntil.IsZero() {
		t.Fatalf("after put: %+v, %v; want token-1, lease released", tok, err)
	}
	// The lease was released with the put: the holder cannot put again.
	if err := st.PutAccessToken(ctx, appid, holder, "token-2", exp, time.Time{}); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("second put = %v, want ErrLeaseLost", err)
	}

	t.Run("expired lease can be taken over", func(t *testing.T) {
		if ok, err := st.AcquireTokenLease(ctx, appid, "a", now, now.Add(time.Second)); !ok || err != nil {
			t.Fatalf("acquire free lease = %v, %v", ok, err)
		}
		if ok, _ := st.AcquireTokenLease(ctx, appid, "b", now.Add(500*time.Millisecond), now.Add(time.Minute)); ok {
			t.Fatal("took over an unexpired lease")
		}
		if ok, err := st.AcquireTokenLease(ctx, appid, "b", now.Add(2*time.Second), now.Add(time.Minute)); !ok || err != nil {
			t.Fatalf("take over expired lease = %v, %v", ok, err)
		}
		if err := st.PutAccessToken(ctx, appid, "a", "stale", exp, time.Time{}); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("put by the overtaken holder = %v, want ErrLeaseLost", err)
		}
		tok, _, _ := st.GetAccessToken(ctx, appid)
		if tok.Token != "token-1" {
			t.Fatalf("token changed while refreshing: %q", tok.Token)
		}
	})

	t.Run("a released lease is free at once and the token stays", func(t *testing.T) {
		if err := st.ReleaseTokenLease(ctx, appid, "a"); err != nil {
			t.Fatalf("release by a non-holder: %v", err)
		}
		if ok, _ := st.AcquireTokenLease(ctx, appid, "c", now.Add(2*time.Second), now.Add(time.Minute)); ok {
			t.Fatal("a non-holder's release freed b's lease")
		}
		if err := st.ReleaseTokenLease(ctx, appid, "b"); err != nil {
			t.Fatalf("release by the holder: %v", err)
		}
		if ok, err := st.AcquireTokenLease(ctx, appid, "c", now.Add(2*time.Second), now.Add(time.Minute)); !ok || err != nil {
			t.Fatalf("acquire after release = %v, %v", ok, err)
		}
		if tok, _, _ := st.GetAccessToken(ctx, appid); tok.Token != "token-1" {
			t.Fatalf("release changed the token: %q", tok.Token)
		}
	})
}

// TestThrottlingIsUnavailable checks the retry policy end to end: a
// DynamoDB that always throttles is retried config.MaxAttempts times, then
// the error matches ErrUnavailable and carries no item values.
func TestThrottlingIsUnavailable(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`)
	}))
	defer srv.Close()
	st := New(fakeClient(srv.URL), "t")

	err := st.AddSessionKey(context.Background(), "u", SessionKey{Key: "secret-session-key"})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if int(calls.Load()) != config.MaxAttempts {
		t.Errorf("%d attempts, want %d", calls.Load(), config.MaxAttempts)
	}
	if strings.Contains(err.Error(), "secret-session-key") {
		t.Errorf("error leaks the key: %v", err)
	}
}

func TestDeadlineBoundsRetries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	st := New(fakeClient(srv.URL), "t")
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := st.WriteDays(ctx, "u", []Day{{Date: "2025-01-01", Steps: 1}, {Date: "2025-01-02", Steps: 2}})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v, want about the 150ms deadline", d)
	}
}

func fakeClient(url string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  aws.AnonymousCredentials{},
		Retryer:      config.NewRetryer(),
	})
}

func TestErrorsNameNoValues(t *testing.T) {
	st := New(fakeClient("http://127.0.0.1:1"), "t")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := st.AddSessionKey(ctx, "openid-value", SessionKey{Key: "key-value"})
	if err == nil || strings.Contains(err.Error(), "key-value") || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v; want ErrUnavailable without values", err)
	}
}

func TestForcedAtIsKeptUntilTheNextForcedRefresh(t *testing.T) {
	st, ctx := newTestStore(t)
	appid := uniqueID("forced")
	now := time.Now().Truncate(time.Millisecond)
	put := func(token string, forcedAt time.Time) {
		t.Helper()
		if ok, err := st.AcquireTokenLease(ctx, appid, "h", now, now.Add(time.Second)); !ok || err != nil {
			t.Fatalf("lease: %v, %v", ok, err)
		}
		if err := st.PutAccessToken(ctx, appid, "h", token, now.Add(time.Hour), forcedAt); err != nil {
			t.Fatal(err)
		}
	}
	put("forced", now)
	put("normal", time.Time{}) // a normal fetch leaves the last forced time alone
	tok, _, err := st.GetAccessToken(ctx, appid)
	if err != nil || tok.Token != "normal" || !tok.ForcedAt.Equal(now) {
		t.Fatalf("record = %+v, %v; want token normal, ForcedAt %v", tok, err, now)
	}
}
