package world

// Subset is the world of some of w's files: the files in keeps, the
// objects they declare, and the live state. An object a Terraform
// resource declares belongs with the resource's .tf file, wherever the
// file it reads with file() lies. Files and objects are shared with w,
// not copied: a subset is a view for a run that only reads it.
func (w *World) Subset(in func(*File) bool) *World {
	s := &World{Live: w.Live, Hints: w.Hints}
	uses := map[*File]bool{}
	keep := func(m *Meta) bool {
		f := m.File
		if m.Resource != nil && m.Resource.File != nil {
			f = m.Resource.File
		}
		if f == nil {
			return true // a live object: every setup sees the clusters
		}
		if !in(f) {
			return false
		}
		if m.File != nil {
			uses[m.File] = true
		}
		return true
	}
	s.Jobs = subset(w.Jobs, func(o *Job) bool { return keep(&o.Meta) })
	s.Agents = subset(w.Agents, func(o *AgentConfig) bool { return keep(&o.Meta) })
	s.Policies = subset(w.Policies, func(o *Policy) bool { return keep(&o.Meta) })
	s.TokenRoles = subset(w.TokenRoles, func(o *TokenRole) bool { return keep(&o.Meta) })
	s.JWTConfigs = subset(w.JWTConfigs, func(o *JWTAuthConfig) bool { return keep(&o.Meta) })
	s.JWTRoles = subset(w.JWTRoles, func(o *JWTRole) bool { return keep(&o.Meta) })
	s.SecretMounts = subset(w.SecretMounts, func(o *SecretMount) bool { return keep(&o.Meta) })
	byPath := map[string]*File{}
	for _, f := range w.Files {
		byPath[f.Path] = f
	}
	s.Skipped = subset(w.Skipped, func(o *Skipped) bool {
		if o.Policy != nil {
			return keep(&o.Policy.Meta)
		}
		f := byPath[o.Range.Filename]
		return f == nil || in(f)
	})
	for _, f := range w.Files {
		if in(f) || uses[f] {
			s.Files = append(s.Files, f)
		}
	}
	return s
}

func subset[T any](all []T, keep func(T) bool) []T {
	var out []T
	for _, o := range all {
		if keep(o) {
			out = append(out, o)
		}
	}
	return out
}
