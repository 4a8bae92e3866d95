package usersteps_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/usersteps"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// TestConcurrentSyncsOfOneUserLoseNoUpdate runs 50 syncs of one user at
// once, each a different step list over the same 31 days under the same
// session key, from several "containers" (services). Every sync reads the
// stored window before writing, so most read stale counts; the conditional
// UpdateItem (steps < :new) must still leave each day at its maximum over
// all 50 lists.
func TestConcurrentSyncsOfOneUserLoseNoUpdate(t *testing.T) {
	const syncs = 50
	now := time.Now()
	e := testenv.New(t, appID, secret, now)
	services := []*usecases.Set{e.Service(t), e.Service(t), e.Service(t), e.Service(t)}
	openid := testenv.UniqueID("race")
	e.Login(t, services[0], openid)

	base := wechattest.Days(31, now)
	want := map[string]int64{}
	bodies := make([][2]string, syncs)
	for k := range syncs {
		list := append([]wechattest.StepInfo(nil), base...)
		for i := range list {
			list[i].Step = rand.Int64N(steps.MaxSteps)
			d := steps.DateOf(time.Unix(list[i].Timestamp, 0))
			want[d] = max(want[d], list[i].Step)
		}
		ed, iv := e.Sim.WeRunData(openid, list, now)
		bodies[k] = [2]string{ed, iv}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, syncs)
		res   = make([]usersteps.SyncResult, syncs)
	)
	for k := range syncs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res[k], errs[k] = services[k%len(services)].Steps.SyncEncrypted(ctx,
				usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: bodies[k][0], IV: bodies[k][1]})
		}()
	}
	close(start)
	wg.Wait()

	got := storedDays(t, e, openid, now)
	for k, err := range errs {
		if err != nil {
			t.Fatalf("sync %d: %v", k, err)
		}
		// What a sync acknowledged is never above what is stored.
		for _, d := range res[k].Days {
			if d.Steps > got[d.Date] {
				t.Errorf("sync %d acknowledged %s = %d, table has %d", k, d.Date, d.Steps, got[d.Date])
			}
		}
	}
	if len(got) != 31 {
		t.Errorf("%d days stored, want 31", len(got))
	}
	for d, n := range want {
		if got[d] != n {
			t.Errorf("%s = %d, want the maximum %d: an update was lost", d, got[d], n)
		}
	}
}
