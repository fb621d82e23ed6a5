package alerts

import "fmt"

// MaxDepth is how deep a rules file may nest tables, arrays, inline tables and dotted
// keys. A rules file needs 2 ([[rule]] and its keys); the TOML decoder has no limit of
// its own and takes time growing with the square of the depth (10,000 nested inline
// tables: over 20 s), so deeper files are refused before decoding.
const MaxDepth = 32

// checkDepth refuses a TOML text nested deeper than MaxDepth, naming the line. It follows
// just enough of TOML to count: brackets and braces open levels, each dot in a key adds
// one, and strings and comments are skipped. A dot between two digits is a number's
// (1.5, 07:32:00.999) and counts nothing.
func checkDepth(data []byte, file string) error {
	var (
		line    = 1
		open    []int // per open bracket or brace: the levels it added
		nested  = 0   // sum of open
		keyDots = 0   // dots in the key being read
	)
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\n':
			line++
			keyDots = 0
		case c == '#':
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			end, lines := skipString(data, i)
			i, line = end, line+lines
		case c == '[' || c == '{':
			open = append(open, keyDots+1)
			nested += keyDots + 1
			keyDots = 0
		case c == ']' || c == '}':
			if n := len(open); n > 0 {
				nested -= open[n-1]
				open = open[:n-1]
			}
			keyDots = 0
		case c == ',':
			keyDots = 0
		case c == '.' && !(i > 0 && isDigit(data[i-1]) && i+1 < len(data) && isDigit(data[i+1])):
			keyDots++
		default:
			continue
		}
		if nested+keyDots > MaxDepth {
			return fmt.Errorf("%s line %d: nested more than %d levels deep (tables, arrays and dotted keys): a rules file needs 2 ([[rule]] tables and their keys); fix the file", file, line, MaxDepth)
		}
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipString returns the index of the last byte of the string starting at data[i] (a
// basic or literal string, single or multi-line; to the end when unterminated) and the
// newlines it holds. Only basic strings have escapes.
func skipString(data []byte, i int) (end, lines int) {
	q := data[i]
	delim := 1
	if i+2 < len(data) && data[i+1] == q && data[i+2] == q {
		delim = 3
	}
	j := i + delim
	for j < len(data) {
		switch c := data[j]; {
		case c == '\\' && q == '"':
			if j+1 < len(data) && data[j+1] == '\n' {
				lines++
			}
			j += 2
			continue
		case c == '\n':
			if delim == 1 {
				return j - 1, lines // an unterminated one-line string: the decoder says so
			}
			lines++
		case c == q && (delim == 1 || j+2 < len(data) && data[j+1] == q && data[j+2] == q):
			return j + delim - 1, lines
		}
		j++
	}
	return len(data) - 1, lines
}
