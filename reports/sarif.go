package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/rules"
)

// SARIF 2.1.0, in the subset GitHub code scanning reads: rule metadata
// with help text, a link to the rule's page and, for security rules, a
// security-severity; results with physical locations relative to
// %SRCROOT%, related locations and fixes.

const (
	sarifSchema = "https://json.schemastore.org/sarif-2.1.0.json"
	// repoURL is the project's repository; the rule pages are its
	// docs/rules/<ID>.md.
	repoURL = "https://github.com/nvlint/nvlint"
	// srcRoot is the base id file URIs are relative to.
	srcRoot = "%SRCROOT%"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                `json:"tool"`
	OriginalURIBaseIDs map[string]sarifArtifact `json:"originalUriBaseIds,omitempty"`
	Results            []sarifResult            `json:"results"`
	// Properties lists the setups of a run that linted several.
	Properties map[string]any `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     sarifText       `json:"shortDescription"`
	FullDescription      sarifText       `json:"fullDescription"`
	Help                 sarifHelp       `json:"help"`
	HelpURI              string          `json:"helpUri,omitempty"`
	DefaultConfiguration sarifRuleConfig `json:"defaultConfiguration"`
	Properties           map[string]any  `json:"properties,omitempty"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations,omitempty"`
	RelatedLocations    []sarifLocation   `json:"relatedLocations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints,omitempty"`
	Fixes               []sarifFix        `json:"fixes,omitempty"`
	// Properties holds the setup of a run that linted several.
	Properties map[string]any `json:"properties,omitempty"`
}

type sarifLocation struct {
	ID               int                    `json:"id,omitempty"`
	PhysicalLocation *sarifPhysical         `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations,omitempty"`
	Message          *sarifText             `json:"message,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

type sarifLogicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifFix struct {
	Description     sarifText             `json:"description"`
	ArtifactChanges []sarifArtifactChange `json:"artifactChanges"`
}

type sarifArtifactChange struct {
	ArtifactLocation sarifArtifact      `json:"artifactLocation"`
	Replacements     []sarifReplacement `json:"replacements"`
}

type sarifReplacement struct {
	DeletedRegion   sarifRegion `json:"deletedRegion"`
	InsertedContent *sarifText  `json:"insertedContent,omitempty"`
}

func sarifLevel(s rules.Severity) string {
	switch s {
	case rules.Error:
		return "error"
	case rules.Warning:
		return "warning"
	}
	return "note"
}

// sarifURI is a file path as a URI reference: forward slashes,
// and every byte but RFC 3986's unreserved characters percent-encoded,
// so that a name with a space, % or : (which would read as a scheme) is
// still a valid uri-reference.
func sarifURI(path string) string {
	p := filepath.ToSlash(filepath.Clean(path))
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || c == '-' || c == '.' || c == '_' || c == '~' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func sarifRegionOf(r hcl.Range) *sarifRegion {
	reg := &sarifRegion{StartLine: max(r.Start.Line, 1), StartColumn: max(r.Start.Column, 1)}
	if r.End.Line >= r.Start.Line && r.End.Line > 0 {
		reg.EndLine, reg.EndColumn = r.End.Line, max(r.End.Column, 1)
		if reg.EndLine == reg.StartLine && reg.EndColumn <= reg.StartColumn {
			reg.EndColumn = reg.StartColumn + 1
		}
	}
	return reg
}

func writeSARIF(w io.Writer, r *Report, opts Options) error {
	docs, err := docsBase(opts.DocsURL, r.Version)
	if err != nil {
		return err
	}
	root, err := sourceRoot(opts.SourceRoot)
	if err != nil {
		return err
	}
	artifact := root.artifact
	driver := sarifDriver{Name: "nvlint", InformationURI: repoURL, Version: r.Version, Rules: []sarifRule{}}
	index := map[string]int{}
	for i, m := range r.rulesUsed() {
		index[m.ID] = i
		help := fmt.Sprintf("%s\n\nWhy: %s\n\nExample:\n%s\n\nHow to fix: %s", m.Title, m.Doc.Why, m.Doc.Example, m.Doc.Fix)
		md := fmt.Sprintf("**%s**\n\n%s\n\n```\n%s\n```\n\n**How to fix:** %s", m.Title, m.Doc.Why, m.Doc.Example, m.Doc.Fix)
		props := map[string]any{"tags": []string{"nomad", "vault"}}
		if m.Security > 0 {
			// What GitHub needs to rank an alert as a security one.
			props["tags"] = []string{"security", "nomad", "vault"}
			props["security-severity"] = strconv.FormatFloat(m.Security, 'f', 1, 64)
		}
		driver.Rules = append(driver.Rules, sarifRule{
			ID: m.ID, Name: m.Name,
			ShortDescription:     sarifText{Text: m.Title},
			FullDescription:      sarifText{Text: m.Doc.Why},
			Help:                 sarifHelp{Text: help, Markdown: md},
			HelpURI:              docs + m.ID + ".md",
			DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(m.Severity)},
			Properties:           props,
		})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{},
		OriginalURIBaseIDs: map[string]sarifArtifact{srcRoot: {URI: fileURI(root.dir, true)}}}
	if len(r.Setups) > 0 {
		run.Properties = map[string]any{"setups": r.Setups}
	}
	for _, f := range r.Findings {
		res := sarifResult{
			RuleID: f.Rule.ID, RuleIndex: index[f.Rule.ID], Level: sarifLevel(f.Severity),
			Message:             sarifText{Text: sarifMessage(f)},
			PartialFingerprints: map[string]string{"nvlintFingerprint/v1": fingerprint(f)},
		}
		if f.Setup != "" {
			res.Properties = map[string]any{"setup": f.Setup}
		}
		if f.HasFile() {
			res.Locations = []sarifLocation{{PhysicalLocation: &sarifPhysical{ArtifactLocation: artifact(f.Range.Filename), Region: sarifRegionOf(f.Range)}}}
		} else {
			name := string(f.Object.Kind) + " " + f.Object.Name
			res.Locations = []sarifLocation{{LogicalLocations: []sarifLogicalLocation{{Name: f.Object.Name, FullyQualifiedName: strings.TrimSpace(name), Kind: "resource"}}}}
		}
		for i, rel := range f.Related {
			if rel.Range.Filename == "" {
				continue
			}
			res.RelatedLocations = append(res.RelatedLocations, sarifLocation{
				ID:               i + 1,
				PhysicalLocation: &sarifPhysical{ArtifactLocation: artifact(rel.Range.Filename), Region: sarifRegionOf(rel.Range)},
				Message:          &sarifText{Text: rel.Message},
			})
		}
		for _, fx := range f.Fixes {
			if len(fx.Edits) == 0 {
				continue
			}
			sf := sarifFix{Description: sarifText{Text: fx.Description}}
			byFile := map[string]int{}
			for _, e := range fx.Edits {
				i, ok := byFile[e.Range.Filename]
				if !ok {
					i = len(sf.ArtifactChanges)
					byFile[e.Range.Filename] = i
					sf.ArtifactChanges = append(sf.ArtifactChanges, sarifArtifactChange{ArtifactLocation: artifact(e.Range.Filename)})
				}
				rep := sarifReplacement{DeletedRegion: sarifRegion{StartLine: e.Range.Start.Line, StartColumn: e.Range.Start.Column, EndLine: e.Range.End.Line, EndColumn: e.Range.End.Column}}
				if e.NewText != "" {
					rep.InsertedContent = &sarifText{Text: e.NewText}
				}
				sf.ArtifactChanges[i].Replacements = append(sf.ArtifactChanges[i].Replacements, rep)
			}
			res.Fixes = append(res.Fixes, sf)
		}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

// docsBase is the URL rule pages are under, ending in a slash: custom
// when given (it must be absolute: helpUri is), else the repository's
// docs/rules/ at the release's tag, or main for any other build.
func docsBase(custom, version string) (string, error) {
	if custom != "" {
		u, err := url.Parse(custom)
		if err != nil || !u.IsAbs() || u.Host == "" {
			return "", fmt.Errorf("%w: rule docs URL (NVLINT_DOCS_URL) %q is not an absolute URL such as https://host/nvlint/docs/rules/", ErrSetting, custom)
		}
		return strings.TrimSuffix(custom, "/") + "/", nil
	}
	ref := "main"
	if releaseTag.MatchString(version) {
		ref = version
	}
	return repoURL + "/blob/" + ref + "/docs/rules/", nil
}

// releaseTag matches a release's version; pseudo-versions, "dev" and
// "(devel)" have no tag of their own.
var releaseTag = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`)

// fileRoot is the directory %SRCROOT% stands for, and the working
// directory relative paths are read from; both absolute.
type fileRoot struct{ dir, wd string }

// sourceRoot is dir made absolute; without one, the top of the git work
// tree around the working directory (where code scanning's paths start),
// else the working directory.
func sourceRoot(dir string) (fileRoot, error) {
	wd, err := os.Getwd()
	if err != nil {
		return fileRoot{}, err
	}
	if dir != "" {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(wd, dir)
		}
		return fileRoot{filepath.Clean(dir), wd}, nil
	}
	for d := wd; ; {
		// .git is a directory, or a file in a linked work tree.
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return fileRoot{d, wd}, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return fileRoot{wd, wd}, nil
		}
		d = parent
	}
}

// artifact locates a file: relative to %SRCROOT% when it is under it, as
// an absolute file URI when not (resolving it against the root would
// name another file). Standard input ("-") has no path to give.
func (root fileRoot) artifact(path string) sarifArtifact {
	if path == "-" {
		return sarifArtifact{URI: sarifURI(path)}
	}
	abs := path
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(root.wd, path)
	}
	rel, err := filepath.Rel(root.dir, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return sarifArtifact{URI: fileURI(abs, false)}
	}
	return sarifArtifact{URI: sarifURI(rel), URIBaseID: srcRoot}
}

// fileURI is the file URI of an absolute path; a directory's ends in a
// slash, as a base URI must.
func fileURI(abs string, dir bool) string {
	p := sarifURI(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive: file:///C%3A/...
	}
	if dir && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return "file://" + p
}

// sarifMessage carries the fix in the message too: code scanning shows
// the message but not fix objects.
func sarifMessage(f rules.Finding) string {
	msg := setupTag(f) + f.Message
	for _, fx := range f.Fixes {
		msg += "\nFix: " + fx.Description
		for _, c := range fx.CommandLines() {
			msg += "\n  $ " + c
		}
	}
	return msg
}

// fingerprint identifies a finding independently of its line, so code
// scanning tracks it across edits.
func fingerprint(f rules.Finding) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s", f.Rule.ID, f.Range.Filename, f.Object.Kind, f.Object.Name, f.Message)
	if f.Setup != "" {
		// One problem in a file two setups share is two results.
		fmt.Fprintf(h, "\x00%s", f.Setup)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
