package challenge_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/shared/challenge"
	"github.com/werun-sam/werun-sam/shared/store"
)

// settled is a world with one running event that u has joined and whose
// mark a sync a settling time later has settled, so u's syncs credit
// beside their writes.
func (w *world) settled(u string, in challenge.NewEvent) challenge.Event {
	w.t.Helper()
	e := w.create(w.user("org"), in)
	w.join(u, e, "")
	w.clock.Set(w.clock.Now().Add(challenge.Settle))
	w.sync(u, stepsOn("2026-03-02", 1000))
	if m := w.marks(u); len(m) != 1 || m[0].Recount {
		w.t.Fatalf("the mark after a sync a settling time after the join: %+v, want one settled", m)
	}
	return e
}

func (w *world) marks(openid string) []store.EventMark {
	w.t.Helper()
	u, err := w.st.LoadUser(w.ctx, openid, "2026-01-01")
	if err != nil {
		w.t.Fatal(err)
	}
	return u.Events
}

// TestASyncBetweenAnothersReadAndWriteIsCreditedOnce interleaves two syncs
// of one user: A reads, B syncs the same day, then A writes. A credited
// what it read beside its write; what B changed in between is corrected
// after, so the total is what the stored days give.
func TestASyncBetweenAnothersReadAndWriteIsCreditedOnce(t *testing.T) {
	cases := []struct {
		name   string
		stored int64 // the day before both syncs (0: none)
		b, a   int64 // what B, then A, sync
	}{
		{"B writes less than A: A replaces B's count", 0, 3000, 12000},
		{"B writes more than A: A's write is refused", 0, 15000, 12000},
		{"B crosses the goal, A the cap", 4000, 9000, 30000},
		{"B raises a stored day, A raises it further", 5000, 6000, 7000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			u := w.user("u")
			e := w.settled(u, challenge.NewEvent{Name: "Interleave", StartDate: "2026-03-01", EndDate: "2026-03-20",
				DailyGoal: i64(8000), DailyCap: i64(20000)})
			if c.stored > 0 {
				w.sync(u, stepsOn("2026-03-09", c.stored))
			}
			a, err := w.read(u, stepsOn("2026-03-09", c.a))
			if err != nil {
				t.Fatal(err)
			}
			w.sync(u, stepsOn("2026-03-09", c.b))
			if err := w.commit(a); err != nil {
				t.Fatal(err)
			}
			w.recomputeAll(e)
		})
	}
}

// TestConcurrentSyncsOfOneParticipantKeepTheTotalExact runs syncs of one
// settled participant at once, over the same days.
func TestConcurrentSyncsOfOneParticipantKeepTheTotalExact(t *testing.T) {
	w := newWorld(t)
	u := w.user("u")
	e := w.settled(u, challenge.NewEvent{Name: "Burst", StartDate: "2026-03-01", EndDate: "2026-03-20", DailyCap: i64(15000)})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.syncErr(u, stepsOn("2026-03-08", int64(2000*(i+1))), stepsOn("2026-03-09", int64(17000-1000*i)),
				stepsOn("2026-03-10", int64(1500*i)))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	w.recomputeAll(e)
}

// failingCredits is storage whose credits answer an error while fail is
// above 0, applied first when applied is set: either way the sync does not
// know what the credit did.
type failingCredits struct {
	challenge.Store
	fail    atomic.Int32
	applied bool
}

func (f *failingCredits) Credit(ctx context.Context, eventID, memberID string, version, total int64, goalDays int) (bool, error) {
	if f.fail.Add(-1) < 0 {
		return f.Store.Credit(ctx, eventID, memberID, version, total, goalDays)
	}
	if f.applied {
		_, _ = f.Store.Credit(ctx, eventID, memberID, version, total, goalDays)
		return false, errors.New("connection reset by peer")
	}
	return false, errors.New("ProvisionedThroughputExceededException")
}

// TestACreditOrWriteGoneWrongIsRecountedAfterTheSettlingTime: a credit
// that failed, or writes that failed after storing the days, leave totals
// that no resend would correct (it finds nothing changed); the mark is
// flagged, and the first sync a settling time later recounts, also one
// that writes nothing.
func TestACreditOrWriteGoneWrongIsRecountedAfterTheSettlingTime(t *testing.T) {
	cases := []struct {
		name    string
		credits int32 // credits that fail
		applied bool  // the failing credits are applied all the same
		write   error // what the writes answer after storing the days
	}{
		{"a credit is throttled", 1, false, nil},
		{"every credit is throttled", 100, false, nil},
		{"a credit's answer is lost", 1, true, nil},
		{"the writes fail after storing", 0, false, errors.New("request timed out")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lost := &failingCredits{applied: c.applied}
			w := newWorldWith(t, func(c *challenge.Config) { lost.Store, c.Store = c.Store, lost })
			u := w.user("u")
			e := w.settled(u, challenge.NewEvent{Name: "Faults", StartDate: "2026-03-01", EndDate: "2026-03-20"})
			lost.fail.Store(c.credits)
			p, err := w.read(u, stepsOn("2026-03-09", 12000), stepsOn("2026-03-10", 4000))
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.svc.Credit(w.ctx, u, p.marks, p.planned, func(ctx context.Context) ([]store.Day, error) {
				written, err := w.st.WriteDays(ctx, u, p.planned)
				return written, errors.Join(err, c.write)
			})
			if (err != nil) != (c.write != nil) {
				t.Fatalf("the sync answered %v, want an error only when the writes failed", err)
			}
			if m := w.marks(u); len(m) != 1 || !m[0].Recount {
				t.Fatalf("the mark after a credit gone wrong: %+v, want it flagged", m)
			}
			lost.fail.Store(0)
			// The resend writes nothing new; the first sync a settling
			// time later recounts.
			w.sync(u, stepsOn("2026-03-09", 12000))
			w.clock.Set(w.clock.Now().Add(challenge.Settle))
			w.sync(u, stepsOn("2026-03-09", 12000))
			w.recomputeAll(e)
			if m := w.marks(u); m[0].Recount {
				t.Errorf("the mark after the recount is still flagged")
			}
			brd := w.board(u, e, "")
			if got := fmt.Sprint(brd.Me.Total); got != "17000" {
				t.Errorf("total %s, want 17000 (1,000 + 12,000 + 4,000)", got)
			}
		})
	}
}

// TestTheLastDayCountsWhenSyncedTheDayAfterTheEnd: WeRun's count of the
// last day arrives with the next morning's sync, so syncs on endDate + 1
// still credit the event's days; from endDate + 2 the event is final and
// a sync leaves its board as it was.
func TestTheLastDayCountsWhenSyncedTheDayAfterTheEnd(t *testing.T) {
	w := newWorld(t)
	u := w.user("u")
	w.clock.Set(now.AddDate(0, 0, -3)) // 2026-03-07
	e := w.settled(u, challenge.NewEvent{Name: "Ends", StartDate: "2026-03-01", EndDate: "2026-03-08"})
	for _, c := range []struct {
		name  string
		at    time.Time
		steps int64
		total int64
		final bool
	}{
		{"on endDate", now.AddDate(0, 0, -2), 6000, 7000, false},
		{"on endDate + 1", now.AddDate(0, 0, -1), 9000, 10000, false},
		{"on endDate + 2", now, 12000, 10000, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			w.clock.Set(c.at)
			w.sync(u, stepsOn("2026-03-08", c.steps))
			brd := w.board(u, e, "")
			got, err := w.svc.Get(w.ctx, u, e.EventID)
			if err != nil {
				t.Fatal(err)
			}
			if brd.Me == nil || brd.Me.Total != c.total || got.Final != c.final {
				t.Errorf("me %+v final %v, want total %d final %v", brd.Me, got.Final, c.total, c.final)
			}
		})
	}
}

// TestAMarkFlaggedBeforeMarksHadASinceIsSettledByItsRecount: marks
// written by an earlier release carry joinedAt, not since; one flagged
// for a recount is recounted by the next sync and then settled, not
// recounted by every sync after.
func TestAMarkFlaggedBeforeMarksHadASinceIsSettledByItsRecount(t *testing.T) {
	w := newWorld(t)
	u := w.user("u")
	e := w.create(w.user("org"), challenge.NewEvent{Name: "Old", StartDate: "2026-03-01", EndDate: "2026-03-20"})
	w.join(u, e, "")
	m := w.marks(u)[0]
	_, err := w.st.Table().DB.UpdateItem(w.ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(w.st.Table().Name), Key: store.MarkKey(u, m.Hide, m.EventID),
		UpdateExpression:          aws.String("SET joinedAt = :j REMOVE since"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":j": &types.AttributeValueMemberN{Value: "1767225600000"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.sync(u, stepsOn("2026-03-09", 5000))
	if got := w.marks(u); len(got) != 1 || got[0].Recount {
		t.Fatalf("the old mark after a sync: %+v, want it settled", got)
	}
	w.recomputeAll(e)
}
