package display

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/rivo/uniseg"
)

// ucdRanges reads testdata/default_ignorable.txt: the ranges of each kind
// ("member", "nonmember").
func ucdRanges(t *testing.T) map[string][][2]rune {
	t.Helper()
	f, err := os.Open("testdata/default_ignorable.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ranges := map[string][][2]rune{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			t.Fatalf("malformed line %q", sc.Text())
		}
		lo, hi, _ := strings.Cut(fields[1], "..")
		if hi == "" {
			hi = lo
		}
		a, err1 := strconv.ParseUint(lo, 16, 32)
		b, err2 := strconv.ParseUint(hi, 16, 32)
		if err1 != nil || err2 != nil || a > b {
			t.Fatalf("malformed range %q", fields[1])
		}
		ranges[fields[0]] = append(ranges[fields[0]], [2]rune{rune(a), rune(b)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ranges
}

func TestDefaultIgnorableIsExactlyTheUCDSet(t *testing.T) {
	ranges := ucdRanges(t)
	member := map[rune]bool{}
	for _, r := range ranges["member"] {
		for c := r[0]; c <= r[1]; c++ {
			member[c] = true
		}
	}
	if len(member) != 4174 {
		t.Fatalf("testdata lists %d members, DerivedCoreProperties.txt 15.0.0 totals 4174", len(member))
	}
	wrong := 0
	for c := rune(0); c <= unicode.MaxRune && wrong < 10; c++ {
		if got := defaultIgnorable(c); got != member[c] {
			t.Errorf("U+%04X: defaultIgnorable %v, UCD %v", c, got, member[c])
			wrong++
		}
	}
	for _, r := range ranges["nonmember"] {
		for c := r[0]; c <= r[1]; c++ {
			if defaultIgnorable(c) {
				t.Errorf("U+%04X is listed as a non-member", c)
			}
		}
	}
}

// Every member is refused in a name where no emoji could claim it, and
// every non-member that is a graphic character is accepted.
func TestNameRefusesEveryMemberBetweenLetters(t *testing.T) {
	ranges := ucdRanges(t)
	for _, r := range ranges["member"] {
		for c := r[0]; c <= r[1]; c++ {
			_, err := Name("a"+string(c)+"b", 32)
			var e *Error
			if !errors.As(err, &e) || e.Err != ErrInvisible || e.Pos != 2 || e.Rune != c {
				t.Fatalf("U+%04X between letters: %v, want ErrInvisible at position 2", c, err)
			}
		}
	}
	for _, r := range ranges["nonmember"] {
		for c := r[0]; c <= r[1]; c++ {
			if !unicode.IsGraphic(c) || unicode.IsSpace(c) || c == 0x2800 {
				continue
			}
			if _, err := Name("a"+string(c)+"b", 32); err != nil {
				t.Errorf("U+%04X between letters: %v", c, err)
			}
		}
	}
}

// The Extended_Pictographic table agrees with uniseg's grapheme clusters
// on every code point. By UAX #29 a ZWJ joins a character to a preceding
// pictograph (GB11) only if it is a pictograph, unless the character
// extends whatever comes before it (GB9, GB9a), which it then also does
// after a letter.
func TestPictographAgreesWithUniseg(t *testing.T) {
	wrong := 0
	for c := rune(0); c <= unicode.MaxRune && wrong < 10; c++ {
		if c >= 0xD800 && c <= 0xDFFF {
			continue // surrogates are no characters
		}
		s := string(c)
		joins := uniseg.GraphemeClusterCount("\U0001F600\u200d"+s) == 1 &&
			uniseg.GraphemeClusterCount("a\u200d"+s) == 2
		if pictograph(c) != joins {
			t.Errorf("U+%04X: table %v, uniseg %v", c, pictograph(c), joins)
			wrong++
		}
	}
}
