package boards_test

import (
	"testing"
	"time"

	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/metrics"
	"github.com/werun-sam/werun-sam/shared/metrics/emftest"
)

// In the first hour of a day the refresher completes yesterday's board too;
// the users it reports and publishes are today's.
func TestRefreshPublishesTodaysBoardUsersAndItsDuration(t *testing.T) {
	midnight := testenv.BoardDay().Add(-12 * time.Hour) // 00:00 CST
	e := testenv.NewApp(t, midnight.Add(-2*time.Hour))
	svc := e.Service(t)
	for range 2 {
		e.SyncCounts(t, svc, testenv.UniqueID("yesterday"), 5000)
	}
	e.Clock.Set(midnight.Add(30 * time.Minute))
	e.SyncCounts(t, svc, testenv.UniqueID("today"), 100, 700)

	log := emftest.Capture(t)
	rep, err := svc.Boards.Refresh(testenv.Timeout(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Boards) != 2 || rep.Users != 1 {
		t.Fatalf("report %+v, want two boards and today's one user", rep)
	}
	points, err := emftest.Points(log.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, p := range points {
		got[p.Name+" "+p.Dimensions["Outcome"]] = p.Value
	}
	if v, ok := got[metrics.RefreshUsers.Name+" ok"]; !ok || v != 1 {
		t.Errorf("RefreshUsers ok = %v (published: %v), want 1", v, got)
	}
	if _, ok := got[metrics.RefreshDuration.Name+" ok"]; !ok {
		t.Errorf("no RefreshDuration ok point (published: %v)", got)
	}
}
