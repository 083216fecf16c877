// Package suggest finds the value a user most likely meant to write.
package suggest

import "strings"

// Closest returns the candidate nearest to s: an exact match ignoring
// case, else the one unique candidate within maxDist edits (insertions,
// deletions, substitutions and swaps of adjacent letters). ok is false
// when nothing is close enough or two candidates tie.
func Closest(s string, candidates []string, maxDist int) (best string, ok bool) {
	for _, c := range candidates {
		if strings.EqualFold(s, c) {
			return c, true
		}
	}
	bestDist, ties := maxDist+1, 0
	for _, c := range candidates {
		d := distance(strings.ToLower(s), strings.ToLower(c))
		switch {
		case d < bestDist:
			best, bestDist, ties = c, d, 1
		case d == bestDist:
			ties++
		}
	}
	if bestDist > maxDist || ties != 1 {
		return "", false
	}
	return best, true
}

// distance is the optimal string alignment distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
