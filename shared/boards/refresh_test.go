package boards_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/boards"
	"github.com/werun-sam/werun-sam/shared/day"
	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// publishedBoard reads the board the refresher published for app and date.
func publishedBoard(t testing.TB, st *store.DynamoStore, app, date string) (boards.Board, bool) {
	t.Helper()
	raw, found, err := st.GetSnapshot(context.Background(), app, "BOARD#"+date)
	if err != nil {
		t.Fatal(err)
	}
	var b boards.Board
	if found {
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
	}
	return b, found
}

func TestAUserWhoSyncedYesterdaySeesTodayAtZeroAfterTheRefresher(t *testing.T) {
	day := testenv.BoardDay().Add(8 * time.Hour) // 20:00 CST
	e := testenv.NewApp(t, day)
	svc := e.Service(t)
	openid := testenv.UniqueID("rollover")
	e.SyncCounts(t, svc, openid, 4000, 12345)

	e.Clock.Set(day.Add(14 * time.Hour)) // the next day, 10:00 CST
	if _, err := svc.Boards.Refresh(testenv.Timeout(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	sum, err := svc.Steps.Summary(context.Background(), openid)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Date != steps.DateOf(e.Clock.Now()) || sum.Today != 0 || sum.Yesterday != 12345 {
		t.Errorf("summary on %s: today %d, yesterday %d; want 0 and 12345", sum.Date, sum.Today, sum.Yesterday)
	}
	if sum.Last7 != 4000+12345 || sum.Rank != nil || sum.Percentile != nil {
		t.Errorf("last7 %d, rank %v, percentile %v; want %d and no rank before today's sync", sum.Last7, sum.Rank, sum.Percentile, 4000+12345)
	}
}

func TestSummaryStreakCountsDaysAtOrAboveTheGoal(t *testing.T) {
	tests := []struct {
		name   string
		counts []int64 // ending today
		streak int
	}{
		{"today short does not break the streak", []int64{9000, 5000, 8000, 12000, 3000}, 2},
		{"today at the goal counts", []int64{8000, 8000, 8000}, 3},
		{"a short day ends it", []int64{9000, 7999, 9000}, 1},
		{"no day at the goal", []int64{100, 200}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testenv.NewApp(t, testenv.BoardDay())
			cfg := e.Config(t)
			cfg.Goal = 8000
			svc := usecases.New(cfg)
			openid := testenv.UniqueID("streak")
			e.SyncCounts(t, svc, openid, tt.counts...)
			sum, err := svc.Steps.Summary(context.Background(), openid)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Streak != tt.streak || sum.Goal != 8000 {
				t.Errorf("streak %d (goal %d), want %d", sum.Streak, sum.Goal, tt.streak)
			}
		})
	}
}

func TestRefreshRanksTodaysUsersAndASecondRunChangesNothing(t *testing.T) {
	now := testenv.BoardDay()
	date := steps.DateOf(now)
	e := testenv.NewApp(t, now)
	svc := e.Service(t)
	counts := []int64{1000, 3000, 5000, 7000, 9000}
	users := make([]string, len(counts))
	for i, n := range counts {
		users[i] = testenv.UniqueID("rank")
		e.SyncCounts(t, svc, users[i], 800, n) // yesterday too: only today is on the board
	}
	ctx := testenv.Timeout(t, 30*time.Second)
	rep, err := svc.Boards.BuildBoards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Boards) != 1 || rep.Boards[0] != date || len(rep.Changed) != 1 || len(rep.Pending) != 0 {
		t.Fatalf("first run: %+v, want the board of %s built and changed", rep, date)
	}
	for i, openid := range users {
		sum, err := svc.Steps.Summary(ctx, openid)
		if err != nil {
			t.Fatal(err)
		}
		wantRank, wantPct := len(counts)-i, float64(i+1)*100/float64(len(counts))
		if sum.Rank == nil || *sum.Rank != wantRank || *sum.Percentile != wantPct || sum.Users != len(counts) {
			t.Errorf("user with %d: rank %v percentile %v of %d; want %d, %v of %d",
				counts[i], deref(sum.Rank), deref(sum.Percentile), sum.Users, wantRank, wantPct, len(counts))
		}
	}
	again, err := svc.Boards.BuildBoards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Changed) != 0 || len(again.Boards) != 1 {
		t.Errorf("second run: %+v, want the board complete and nothing changed", again)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// slowBoard makes each index page take a while, so a run's deadline falls
// in the middle of a build.
type slowBoard struct {
	usecases.Store
	delay time.Duration
}

func (s slowBoard) BoardPage(ctx context.Context, board, cursor string) ([]store.BoardEntry, string, error) {
	time.Sleep(s.delay)
	return s.Store.BoardPage(ctx, board, cursor)
}

func TestARefreshCutShortIsCompletedByTheNextRunWithTheSameBoard(t *testing.T) {
	now := testenv.BoardDay()
	date := steps.DateOf(now)
	e := testenv.NewApp(t, now)
	ctx := context.Background()
	for i := 0; i < 64; i++ {
		openid := testenv.UniqueID("cut")
		if _, err := e.Store.WriteDays(ctx, openid, []store.Day{{Date: date, Steps: int64(i * 317), UpdatedAt: now, Board: day.BoardShard(openid, date)}}); err != nil {
			t.Fatal(err)
		}
	}
	// 2 s stop margin + about four 250 ms pages of the 16 shards.
	cfg := e.Config(t)
	cfg.Store = slowBoard{e.Store, 250 * time.Millisecond}
	slow := usecases.New(cfg)
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	rep, err := slow.Boards.BuildBoards(short)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Pending) != 1 || rep.Pending[0] != date || len(rep.Boards) != 0 {
		t.Fatalf("short run: %+v, want %s pending", rep, date)
	}
	if _, found := publishedBoard(t, e.Store, e.AppID, date); found {
		t.Fatal("a partial board was published")
	}
	rep, err = e.Service(t).Boards.BuildBoards(ctx)
	if err != nil || len(rep.Boards) != 1 || len(rep.Changed) != 1 || len(rep.Pending) != 0 {
		t.Fatalf("next run: %+v, %v; want the board completed", rep, err)
	}
	resumed, _ := publishedBoard(t, e.Store, e.AppID, date)

	// The same day built in one go, published under another app.
	other := testenv.UniqueID("wxapp")
	wholeCfg := e.Config(t)
	wholeCfg.AppID = other
	whole := usecases.New(wholeCfg)
	if _, err := whole.Boards.BuildBoards(ctx); err != nil {
		t.Fatal(err)
	}
	want, _ := publishedBoard(t, e.Store, other, date)
	resumed.BuiltAt, want.BuiltAt = time.Time{}, time.Time{}
	if a, b := fmt.Sprint(resumed), fmt.Sprint(want); a != b || resumed.Users != 64 {
		t.Errorf("resumed board differs from an uninterrupted build:\n%s\n%s", a, b)
	}
}

func TestRefreshRenewsTheAccessTokenOnlyNearExpiry(t *testing.T) {
	start := testenv.BoardDay()
	e := testenv.NewApp(t, start)
	svc := e.Service(t)
	ctx := testenv.Timeout(t, 20*time.Second)
	runs := []struct {
		name    string
		at      time.Duration // after start
		fetches int           // total after the run
	}{
		{"no token yet", 0, 1},
		{"a fresh token is left alone", time.Hour, 1},
		{"a token near expiry is renewed", wechattest.TokenTTL - 3*time.Minute, 2},
		{"the renewed token is fresh", wechattest.TokenTTL, 2},
	}
	for _, st := range runs {
		e.Clock.Set(start.Add(st.at))
		rep, err := svc.Boards.Refresh(ctx)
		if err != nil || !rep.TokenRefreshed {
			t.Fatalf("%s: %+v, %v", st.name, rep, err)
		}
		if n := e.Sim.TokenFetches(); n != st.fetches {
			t.Errorf("%s: %d token fetches, want %d", st.name, n, st.fetches)
		}
	}
	// A request in another container uses the renewed token without a fetch.
	id := e.Sim.CloudID("tok-user", testenv.History(e.Clock.Now(), 10), e.Clock.Now())
	if _, err := e.Service(t).Steps.SyncCloudID(ctx, session.Caller{OpenID: "tok-user", Account: "a1"}, id); err != nil || e.Sim.TokenFetches() != 2 {
		t.Errorf("sync after the renewal: %v, %d fetches", err, e.Sim.TokenFetches())
	}
}

// populate writes today's day of users openids prefix-00000.. directly, with
// bounded parallelism. The ids and counts are fixed, so a rerun against the
// same table writes nothing new.
func populate(tb testing.TB, st *store.DynamoStore, prefix, date string, users int, count func(i int) int64) {
	tb.Helper()
	const workers = 16
	at, _ := time.ParseInLocation(time.DateOnly, date, steps.CST)
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				openid := fmt.Sprintf("%s-%05d", prefix, i)
				day := store.Day{Date: date, Steps: count(i), Source: "test", UpdatedAt: at, Board: day.BoardShard(openid, date)}
				if _, err := st.WriteDays(context.Background(), openid, []store.Day{day}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < users; i++ {
		select {
		case jobs <- i:
		case err := <-errs:
			tb.Fatal(err)
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		tb.Fatal(err)
	default:
	}
}

func scaleCount(i int) int64 { return int64(i*7919) % 30001 }

func TestRefreshBuildsTheBoardOfTenThousandUsers(t *testing.T) {
	const users = 10000
	now := time.Date(2031, 6, 15, 12, 0, 0, 0, steps.CST)
	date := steps.DateOf(now)
	e := testenv.NewApp(t, now)
	began := time.Now()
	populate(t, e.Store, "scale", date, users, scaleCount)
	wrote := time.Since(began)

	began = time.Now()
	rep, err := e.Service(t).Boards.BuildBoards(testenv.Timeout(t, 5*time.Minute))
	if err != nil || len(rep.Boards) != 1 {
		t.Fatalf("refresh: %+v, %v", rep, err)
	}
	built := time.Since(began)
	t.Logf("%d users: written in %v, board built in %v (%.0f users/s)", users, wrote.Round(time.Millisecond), built.Round(time.Millisecond), users/built.Seconds())

	b, _ := publishedBoard(t, e.Store, e.AppID, date)
	best := boards.Ranked{Steps: -1}
	for i := 0; i < users; i++ {
		if n := scaleCount(i); n > best.Steps {
			best = boards.Ranked{OpenID: fmt.Sprintf("scale-%05d", i), Steps: n}
		}
	}
	sum := 0
	for _, c := range b.Histogram {
		sum += c
	}
	if b.Users != users || sum != users || len(b.Top) != boards.BoardTop || b.Top[0] != best {
		t.Errorf("board: %d users, histogram total %d, top %d, first %+v; want %d, %d, %d, %+v",
			b.Users, sum, len(b.Top), first(b.Top), users, users, boards.BoardTop, best)
	}
}

func first(top []boards.Ranked) any {
	if len(top) == 0 {
		return nil
	}
	return top[0]
}

// BenchmarkRefreshBoard reports how many users' days one refresher run
// reads into a board per second, over a pre-populated day.
func BenchmarkRefreshBoard(b *testing.B) {
	const users = 2000
	st := testenv.Store(b)
	now := time.Date(2031, 7, 1, 12, 0, 0, 0, steps.CST)
	populate(b, st, "bench", steps.DateOf(now), users, scaleCount)
	svc := usecases.New(usecases.Config{AppID: testenv.UniqueID("wxbench"), Store: st, Events: eventstore.New(st.Table()), Now: func() time.Time { return now }})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.Boards.BuildBoards(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(users*b.N)/b.Elapsed().Seconds(), "users/s")
}
