package world

import "testing"

func TestAllocRuns(t *testing.T) {
	job := func(name, ns, region string) *Job {
		j := &Job{Meta: Meta{Ref: ObjectRef{Kind: KindJobspec, Name: name}}}
		if ns != "" {
			j.Namespace = Str{V: ns, Set: true, Known: true}
		}
		if region != "" {
			j.Region = Str{V: region, Set: true, Known: true}
		}
		return j
	}
	west := NomadAlloc{JobID: "app", Namespace: "default", Region: "west"}
	for _, c := range []struct {
		a    NomadAlloc
		j    *Job
		want bool
	}{
		{west, job("app", "", "west"), true},
		{west, job("app", "", "east"), false},                                          // same name, another region
		{west, job("app", "batch", "west"), false},                                     // same name, another namespace
		{west, job("app", "", ""), true},                                               // a job that does not say its region
		{NomadAlloc{JobID: "app", Namespace: "default"}, job("app", "", "east"), true}, // one region read
		{NomadAlloc{JobID: "app/periodic-1", ParentJobID: "app", Namespace: "default", Region: "west"}, job("app", "", "west"), true},
		{west, job("web", "", "west"), false},
	} {
		if got := c.a.Runs(c.j); got != c.want {
			t.Errorf("alloc %+v runs job %s ns %q region %q: %v, want %v", c.a, c.j.Ref.Name, c.j.Namespace.V, c.j.Region.V, got, c.want)
		}
	}
}
