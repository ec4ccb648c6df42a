// Package docs holds the project's prose; its test keeps the guided tour's
// references to the code true.
package docs

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// hopRow matches a row of the tour's hop-by-hop table: the file and line
// it links to, and the code it quotes from that line.
var hopRow = regexp.MustCompile("^\\| \\d+ \\| \\[([^\\]:]+):(\\d+)\\]\\([^)]*\\) \\| `([^`]+)` \\|")

// TestTourQuotesTheLinesItNames reads every row of the tour's chain of
// hops and checks that the named line of the named file holds the quoted
// code, so moving code without updating the tour fails here.
func TestTourQuotesTheLinesItNames(t *testing.T) {
	tour, err := os.ReadFile("tour.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, line := range strings.Split(string(tour), "\n") {
		m := hopRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		rows++
		path, quoted := m[1], m[3]
		n, _ := strconv.Atoi(m[2])
		source, err := os.ReadFile("../" + path)
		if err != nil {
			t.Errorf("the tour names %s: %v", path, err)
			continue
		}
		lines := strings.Split(string(source), "\n")
		if n < 1 || n > len(lines) || !strings.Contains(lines[n-1], quoted) {
			t.Errorf("the tour says %s:%d holds %q; it does not (update docs/tour.md)", path, n, quoted)
		}
	}
	if rows < 20 {
		t.Fatalf("found %d hop rows in tour.md; the table's format changed (this test reads it)", rows)
	}
}
