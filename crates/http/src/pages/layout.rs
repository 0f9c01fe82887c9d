//! The pages' shared frame: the document, its style, escaping and money.

/// Escapes text for HTML content and attribute values.
///
/// Every value a page shows goes through it (member and service names are the chain's data).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Cents as a decimal string, escaped (it is digits, a sign and a point).
pub(crate) fn cents(c: i128) -> String {
    memberledger::domain::format_cents(c)
}

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif;margin:1.5em;color:#222;max-width:1000px}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:right}\
td:first-child,th:first-child{text-align:left}.figure{font-size:1.3em;font-weight:bold}\
.warn{color:#a40}.error{color:#a00}svg{max-width:100%;height:auto}form{margin:.5em 0 1em}";

/// A whole page: `title` and `body` (already HTML).
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{} · memberledger</title><style>{STYLE}</style></head><body><h1>{}</h1>\n{body}\n</body></html>\n",
        escape(title),
        escape(title)
    )
}

/// A table: header cells and rows of cells (already HTML), with an id.
pub(crate) fn table(id: &str, head: &[&str], rows: &[Vec<String>]) -> String {
    let mut o = format!("<table id=\"{}\"><thead><tr>", escape(id));
    for h in head {
        o.push_str(&format!("<th>{}</th>", escape(h)));
    }
    o.push_str("</tr></thead><tbody>");
    for row in rows {
        o.push_str("<tr>");
        for c in row {
            o.push_str(&format!("<td>{c}</td>"));
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table>");
    o
}

/// The sign-in form: a token field (password-typed, so it is not shown) and, for `/hq`, the
/// day; it sends them to the same page as query parameters. `action` is relative (`hq`), so the
/// form works under a brand's prefix (`/brands/{brand}/hq`) as at the root.
pub(crate) fn form(action: &str, as_of: Option<&str>) -> String {
    let day = as_of.map_or(String::new(), |d| {
        format!(
            " <label>as of <input type=\"date\" name=\"as_of\" value=\"{}\"></label>",
            escape(d)
        )
    });
    format!(
        "<form method=\"get\" action=\"{}\"><label>token <input type=\"password\" name=\"token\" autocomplete=\"off\"></label>{day} <button type=\"submit\">show</button></form>",
        escape(action)
    )
}
