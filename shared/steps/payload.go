package steps

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/werun-sam/werun-sam/shared/crypto"
)

// ParsePayload decodes a WeRun plaintext. It is a small hand-written
// decoder rather than encoding/json: this runs on every sync, and the
// reflection-driven decoder costs several times the AES decryption before
// it. It accepts exactly JSON (RFC 8259) and ignores unknown fields, as
// encoding/json does, but matches field names exactly and is stricter about
// the two numbers of an entry. It tells the two kinds of failure apart:
//
//   - input that is not a JSON object (any syntax error, a top level that
//     is not an object, nesting past 64 levels), or a watermark field of the
//     wrong type, is ErrMalformedPayload: a wrong key's plaintext fails so;
//   - well-formed JSON whose step list is unusable (a list or entry of the
//     wrong type, an entry missing "timestamp" or "step", a timestamp that
//     is not an integer in int64, a step that is negative, not a whole
//     number or beyond int64) is ErrInvalidSteps, and the Payload still
//     carries the watermark, so a caller can tell that the key was right
//     and the content is what is wrong. A whole number written as 1200.0
//     or 1.2e3 is accepted.
//
// A missing or null stepInfoList is not an error here: Validate reports it
// as ErrNoSteps. A missing watermark is left zero and fails Watermark.Check.
func ParsePayload(b []byte) (Payload, error) {
	p := parser{b: b}
	pl, ok := p.payload()
	if !ok {
		return Payload{}, ErrMalformedPayload
	}
	if p.contentErr != nil {
		return Payload{Watermark: pl.Watermark}, p.contentErr
	}
	return pl, nil
}

// maxDepth bounds nesting in the values ParsePayload skips, so hostile
// input cannot exhaust the stack.
const maxDepth = 64

type parser struct {
	b     []byte
	i     int
	depth int
	// contentErr is the first ErrInvalidSteps, reported once the JSON is
	// known to be well-formed.
	contentErr error
}

func (p *parser) payload() (Payload, bool) {
	var pl Payload
	ok := p.object(func(key []byte) bool {
		switch string(key) {
		case "stepInfoList":
			list, ok := p.entries()
			pl.StepInfoList = list
			return ok
		case "watermark":
			return p.watermark(&pl)
		default:
			return p.skip()
		}
	})
	p.ws()
	return pl, ok && p.i == len(p.b)
}

func (p *parser) entries() ([]Entry, bool) {
	if p.literal("null") {
		return nil, true
	}
	if !p.at('[') {
		p.invalid("stepInfoList is not a list")
		return nil, p.skip()
	}
	p.i++
	list := make([]Entry, 0, WindowDays+1)
	if p.consume(']') {
		return list, true
	}
	for {
		p.ws()
		e, ok := p.entry(len(list))
		if !ok {
			return nil, false
		}
		list = append(list, e)
		if p.consume(']') {
			return list, true
		}
		if !p.consume(',') {
			return nil, false
		}
	}
}

// entry reads one {"timestamp":..,"step":..}. It fails only on a syntax
// error; an entry of the wrong shape is noted as a content error.
func (p *parser) entry(index int) (Entry, bool) {
	var e Entry
	if !p.at('{') {
		p.invalid(fmt.Sprintf("entry %d is not an object", index))
		return e, p.skip()
	}
	var hasTS, hasStep bool
	ok := p.object(func(key []byte) bool {
		switch string(key) {
		case "timestamp":
			hasTS = true
			return p.entryNumber(&e.Timestamp, timestampValue, index, "a timestamp that is not an integer in int64")
		case "step":
			hasStep = true
			return p.entryNumber(&e.Step, stepValue, index, "a step count that is not a whole non-negative number")
		default:
			return p.skip()
		}
	})
	if ok && (!hasTS || !hasStep) {
		p.invalid(fmt.Sprintf("entry %d lacks a timestamp or a step count", index))
	}
	return e, ok
}

// entryNumber reads one number of an entry into dst with value. It fails
// only on a syntax error; a value that is not a number, or that value
// refuses, is noted as a content error (why).
func (p *parser) entryNumber(dst *int64, value func(raw []byte, whole bool) (int64, bool), index int, why string) bool {
	if !p.atNumber() {
		p.invalid(fmt.Sprintf("entry %d has %s", index, why))
		return p.skip()
	}
	raw, whole, ok := p.number()
	if !ok {
		return false
	}
	n, valid := value(raw, whole)
	if !valid {
		p.invalid(fmt.Sprintf("entry %d has %s", index, why))
	}
	*dst = n
	return true
}

// timestampValue is an entry's timestamp: an integer in int64.
func timestampValue(raw []byte, whole bool) (int64, bool) {
	if !whole {
		return 0, false
	}
	return parseInt(raw)
}

// invalid notes the first content error.
func (p *parser) invalid(why string) {
	if p.contentErr == nil {
		p.contentErr = fmt.Errorf("%w: %s", ErrInvalidSteps, why)
	}
}

// at reports whether the next byte is c, without consuming it.
func (p *parser) at(c byte) bool { return p.i < len(p.b) && p.b[p.i] == c }

// atNumber reports whether a number starts at the next byte.
func (p *parser) atNumber() bool { return p.at('-') || p.i < len(p.b) && isDigit(p.b[p.i]) }

// watermark reads the watermark as encoding/json reads it into a map: a
// repeated watermark, or a repeated field, replaces the earlier one whole,
// and null is the zero value.
func (p *parser) watermark(pl *Payload) bool {
	pl.Watermark = crypto.Watermark{}
	if p.literal("null") {
		return true
	}
	return p.object(func(key []byte) bool {
		switch string(key) {
		case "appid":
			pl.Watermark.AppID = ""
			if p.literal("null") {
				return true
			}
			s, ok := p.stringValue()
			pl.Watermark.AppID = s
			return ok
		case "timestamp":
			pl.Watermark.Timestamp = 0
			if p.literal("null") {
				return true
			}
			raw, whole, ok := p.number()
			if !ok || !whole {
				return false
			}
			pl.Watermark.Timestamp, ok = parseInt(raw)
			return ok
		default:
			return p.skip()
		}
	})
}

// object parses {"key": value, ...}, calling field with each key (escapes
// resolved) positioned at its value; field must consume the value.
func (p *parser) object(field func(key []byte) bool) bool {
	if !p.consume('{') {
		return false
	}
	if p.consume('}') {
		return true
	}
	for {
		p.ws()
		start := p.i
		key, escaped, ok := p.str()
		if !ok {
			return false
		}
		if escaped {
			s, ok := unquote(p.b[start:p.i])
			if !ok {
				return false
			}
			key = []byte(s)
		}
		if !p.consume(':') {
			return false
		}
		p.ws()
		if !field(key) {
			return false
		}
		if p.consume('}') {
			return true
		}
		if !p.consume(',') {
			return false
		}
	}
}

func (p *parser) stringValue() (string, bool) {
	start := p.i
	raw, escaped, ok := p.str()
	if !ok {
		return "", false
	}
	if escaped || !utf8.Valid(raw) {
		// Resolve escapes, and replace invalid UTF-8 with U+FFFD as
		// encoding/json does.
		return unquote(p.b[start:p.i])
	}
	return string(raw), true
}

// unquote resolves a quoted JSON string's escapes; rare enough in WeRun
// data to leave to encoding/json.
func unquote(quoted []byte) (string, bool) {
	var s string
	err := json.Unmarshal(quoted, &s)
	return s, err == nil
}

// str scans a JSON string at p.i and returns its raw contents.
func (p *parser) str() (raw []byte, escaped, ok bool) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, false, false
	}
	start := p.i + 1
	for i := start; i < len(p.b); i++ {
		switch c := p.b[i]; {
		case c == '"':
			p.i = i + 1
			return p.b[start:i], escaped, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			escaped = true
			i++
			if i >= len(p.b) {
				return nil, false, false
			}
			switch p.b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(p.b) {
					return nil, false, false
				}
				for _, h := range p.b[i+1 : i+5] {
					if !isHex(h) {
						return nil, false, false
					}
				}
				i += 4
			default:
				return nil, false, false
			}
		}
	}
	return nil, false, false
}

// number scans a JSON number at p.i; whole reports that it has neither a
// fraction nor an exponent.
func (p *parser) number() (raw []byte, whole, ok bool) {
	b, i := p.b, p.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return nil, false, false
	}
	whole = true
	if i < len(b) && b[i] == '.' {
		whole = false
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return nil, false, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		whole = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return nil, false, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	p.i = i
	return b[start:i], whole, true
}

// skip scans over any JSON value.
func (p *parser) skip() bool {
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '{', c == '[':
		if p.depth >= maxDepth {
			return false
		}
		p.depth++
		defer func() { p.depth-- }()
		if c == '{' {
			return p.object(func([]byte) bool { return p.skip() })
		}
		p.i++
		if p.consume(']') {
			return true
		}
		for {
			p.ws()
			if !p.skip() {
				return false
			}
			if p.consume(']') {
				return true
			}
			if !p.consume(',') {
				return false
			}
		}
	case c == '"':
		_, _, ok := p.str()
		return ok
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	default:
		_, _, ok := p.number()
		return ok
	}
}

// consume skips whitespace and then c, if c is next.
func (p *parser) consume(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// literal consumes the keyword lit (true, false, null) if it is next.
func (p *parser) literal(lit string) bool {
	if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
		p.i += len(lit)
		return true
	}
	return false
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// parseInt parses an integer number already checked by number().
func parseInt(raw []byte) (int64, bool) {
	neg := raw[0] == '-'
	if neg {
		raw = raw[1:]
	}
	var n uint64
	for _, c := range raw {
		if n > (math.MaxUint64-9)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true // -1<<63 wraps to itself, as wanted
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}

// stepValue reads a step count: a whole, non-negative number in int64.
func stepValue(raw []byte, whole bool) (int64, bool) {
	if whole {
		n, ok := parseInt(raw)
		if !ok || n < 0 {
			return 0, false
		}
		return n, true
	}
	return exactWhole(string(raw))
}

// exactWhole reads a JSON number with a fraction or an exponent (2E3,
// 2000.0) as a whole non-negative int64, exactly: a float64 would round a
// count past 2^53 to another whole number. It builds at most 19 digits,
// however large the exponent.
func exactWhole(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 1<<20 || e < -(1<<20) {
			e = 1 << 21 // no int64 either way, unless the number is zero
		}
		s, exp = s[:i], e
	}
	whole, frac, _ := strings.Cut(s, ".")
	digits := strings.TrimLeft(whole+frac, "0")
	if digits == "" {
		return 0, true
	}
	sig := strings.TrimRight(digits, "0")
	exp += len(digits) - len(sig) - len(frac)
	if neg || exp < 0 || len(sig)+exp > 19 {
		return 0, false
	}
	return parseInt([]byte(sig + strings.Repeat("0", exp)))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
