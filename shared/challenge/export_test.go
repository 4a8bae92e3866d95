package challenge_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/werun-sam/werun-sam/shared/challenge"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/internal/testenv"
)

func (w *world) export(openid string, e challenge.Event, format string) challenge.File {
	w.t.Helper()
	f, err := w.svc.Export(w.ctx, openid, e.EventID, format)
	if err != nil {
		w.t.Fatalf("Export %s: %v", format, err)
	}
	return f
}

// readCSV checks the byte-order mark and CRLF line ends, and parses the rest.
func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	text, ok := strings.CutPrefix(string(body), "\uFEFF")
	if !ok {
		t.Fatalf("no byte-order mark: %q", body[:min(len(body), 16)])
	}
	if !strings.HasSuffix(text, "\r\n") || strings.Count(text, "\n") != strings.Count(text, "\r\n") {
		t.Fatalf("not CRLF line ends: %q", text)
	}
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// The export credits each counted day as the board does (the cap, 0 for
// a kept-off or missing day, nothing before the start), so its totals are
// the board's; rows come in board order with excluded participants last,
// and team names and nicknames that look like formulas are guarded.
func TestExportCreditsEachDayAsTheBoardDoes(t *testing.T) {
	w := newWorld(t)
	org, a, b, x := w.user("org"), w.user(`Li, "Lee"`), w.user("-b"), w.user("x")
	e := w.create(org, challenge.NewEvent{Name: "Capped", StartDate: "2026-03-05", EndDate: "2026-03-20",
		DailyGoal: i64(8000), DailyCap: i64(12000), GoalDays: i64(2), Teams: []string{"=SUM(A1)", "研发"}})
	w.sync(a, stepsOn("2026-03-04", 9000), stepsOn("2026-03-05", 15000), stepsOn("2026-03-06", 8500))
	w.join(a, e, "t002")
	w.join(b, e, "t001")
	w.join(x, e, "t002")
	w.sync(b, stepsOn("2026-03-09", 150000), stepsOn("2026-03-08", 8000))
	w.sync(x, stepsOn("2026-03-10", 30000), stepsOn("2026-03-07", 9000))
	testenv.Exclude(t, w.mid(x))

	got := readCSV(t, w.export(org, e, "").Body)
	want := [][]string{
		{"memberId", "nickname", "team", "2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10", "total", "goalDays", "completed"},
		{w.mid(a), `Li, "Lee"`, "研发", "12000", "8500", "0", "0", "0", "0", "20500", "2", "true"},
		{w.mid(b), "'-b", "'=SUM(A1)", "0", "0", "0", "8000", "0", "0", "8000", "1", "false"},
		{w.mid(x), "x", "研发", "0", "0", "9000", "0", "0", "12000", "21000", "2", "true"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("line %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
	brd := w.board(org, e, "")
	for i, en := range brd.Entries {
		if row := got[i+1]; row[0] != en.MemberID || row[len(row)-3] != strconv.FormatInt(en.Total, 10) {
			t.Errorf("board entry %d is %s with %d, the export's row %q", i, en.MemberID, en.Total, row)
		}
	}

	f := w.export(org, e, challenge.XLSX)
	if f.ContentType != challenge.XLSXType || f.Name != "event-"+e.EventID+".xlsx" || f.Text {
		t.Errorf("xlsx file: %q %q text=%v", f.Name, f.ContentType, f.Text)
	}
	checkSheet(t, f.Body, want)
}

// checkSheet opens an XLSX with the library and compares its one sheet's
// cells with want: text cells as text, numbers numeric, completed a
// boolean.
func checkSheet(t *testing.T, body []byte, want [][]string) {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	sheet := x.GetSheetName(0)
	rows, err := x.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for r := range want {
		for c, v := range want[r] {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			typ, _ := x.GetCellType(sheet, cell)
			wantType := []excelize.CellType{excelize.CellTypeInlineString, excelize.CellTypeSharedString}
			switch {
			case r == 0 || c < 3:
			case c == len(want[r])-1:
				wantType, v = []excelize.CellType{excelize.CellTypeBool}, strings.ToUpper(v)
			default: // a cell without a type is a number in OOXML
				wantType = []excelize.CellType{excelize.CellTypeNumber, excelize.CellTypeUnset}
			}
			if got := rows[r][c]; got != v {
				t.Errorf("%s = %q, want %q", cell, got, v)
			}
			if !slices.Contains(wantType, typ) {
				t.Errorf("%s is of type %v, want one of %v", cell, typ, wantType)
			}
		}
	}
}

// Only the organizer exports: a participant is told so, anyone else finds
// no event; a format other than csv or xlsx is refused; before the start
// the table has no day columns.
func TestExportRightsFormatsAndAnUpcomingEvent(t *testing.T) {
	w := newWorld(t)
	org, a, stranger := w.user("org"), w.user("a"), w.user("s")
	e := w.create(org, challenge.NewEvent{Name: "Soon", StartDate: "2026-03-11", EndDate: "2026-03-20"})
	w.join(a, e, "")
	for _, c := range []struct {
		name, who, eventID, format string
		want                       *fault.Class
	}{
		{"participant", a, e.EventID, "", fault.NotOrganizer},
		{"stranger", stranger, e.EventID, "csv", fault.EventNotFound},
		{"malformed id", org, "x", "csv", fault.EventNotFound},
		{"unknown format", org, e.EventID, "pdf", fault.InvalidExportFormat},
		{"format in capitals", org, e.EventID, "CSV", fault.InvalidExportFormat},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.svc.Export(w.ctx, c.who, c.eventID, c.format)
			wantClass(t, err, c.want)
		})
	}
	f := w.export(org, e, challenge.CSV)
	if f.ContentType != "text/csv; charset=utf-8" || f.Name != "event-"+e.EventID+".csv" || !f.Text {
		t.Errorf("csv file: %q %q text=%v", f.Name, f.ContentType, f.Text)
	}
	got := readCSV(t, f.Body)
	want := "memberId,nickname,team,total,goalDays,completed|" + w.mid(a) + ",a,,0,0,false"
	if lines := joinLines(got); lines != want {
		t.Errorf("upcoming export %q, want %q", lines, want)
	}
}

func joinLines(recs [][]string) string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = strings.Join(r, ",")
	}
	return strings.Join(out, "|")
}

// A user's own export holds the events they take part in with their own
// credited days, and the events they organize with the settings only; a
// cancelled event is gone.
func TestExportMineHoldsOwnDaysAndOrganizedSettingsOnly(t *testing.T) {
	w := newWorld(t)
	org, a, b := w.user("org"), w.user("a"), w.user("b")
	e := w.create(org, challenge.NewEvent{Name: "Mine", StartDate: "2026-03-08", EndDate: "2026-03-20", DailyCap: i64(12000), Teams: []string{"A"}})
	gone := w.create(org, challenge.NewEvent{Name: "Gone", StartDate: "2026-03-08", EndDate: "2026-03-20"})
	w.join(a, e, "t001")
	w.join(b, e, "t001")
	w.join(org, gone, "")
	w.sync(a, stepsOn("2026-03-07", 5000), stepsOn("2026-03-09", 15000))
	w.sync(b, stepsOn("2026-03-09", 7000))
	if err := w.svc.Cancel(w.ctx, org, gone.EventID); err != nil {
		t.Fatal(err)
	}

	mine, err := w.svc.ExportMine(w.ctx, a, w.mid(a))
	if err != nil {
		t.Fatal(err)
	}
	if len(mine.Organizing) != 0 || len(mine.Participating) != 1 {
		t.Fatalf("a's events: %+v", mine)
	}
	p := mine.Participating[0]
	wantDays := []challenge.CreditedDay{{Date: "2026-03-08", Steps: 0}, {Date: "2026-03-09", Steps: 12000}, {Date: "2026-03-10", Steps: 0}}
	if p.Event.EventID != e.EventID || *p.Event.Me.TeamID != "t001" || fmt.Sprint(p.Days) != fmt.Sprint(wantDays) ||
		p.Total != 12000 || p.GoalDays != 1 || p.Completed {
		t.Errorf("a's participation: %+v", p)
	}

	mine, err = w.svc.ExportMine(w.ctx, org, w.mid(org))
	if err != nil {
		t.Fatal(err)
	}
	if len(mine.Participating) != 0 || len(mine.Organizing) != 1 {
		t.Fatalf("org's events: %+v", mine)
	}
	if o := mine.Organizing[0]; o.EventID != e.EventID || o.DailyCap != 12000 || o.Participants != 2 || !o.Me.Organizer {
		t.Errorf("org's event: %+v", o)
	}
	if mine, err := w.svc.ExportMine(w.ctx, "nobody", ""); err != nil || mine.Participating == nil || mine.Organizing == nil {
		t.Errorf("no memberId: %+v %v", mine, err)
	}
}
