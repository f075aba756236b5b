//! The layering in `docs/architecture.md` ("Which module may use which") is the layering of
//! the code: every `crate::module` a file of `src/` names is one its module may use.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each module and the modules it may use, read from the document's code block;
/// `None` for "anything".
fn documented() -> BTreeMap<String, Option<BTreeSet<String>>> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/architecture.md"))
        .unwrap();
    let section = doc
        .split("## Which module may use which")
        .nth(1)
        .expect("docs/architecture.md has the layering section");
    let block = section.split("```").nth(1).expect("a code block");
    let mut rules = BTreeMap::new();
    for line in block.lines().filter(|l| l.contains('→')) {
        let (left, right) = line.split_once('→').unwrap();
        let allowed = match right.trim() {
            "anything" => None,
            "nothing of Rusk" => Some(BTreeSet::new()),
            list => Some(list.split(',').map(|m| m.trim().to_string()).collect()),
        };
        for module in left.split(',') {
            rules.insert(module.trim().to_string(), allowed.clone());
        }
    }
    rules
}

/// Each module of `src/` and the modules its code names as `crate::…`.
fn used() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let top = relative.components().next().unwrap().as_os_str();
            let module = top.to_str().unwrap().trim_end_matches(".rs").to_string();
            if module == "lib" || module == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let named = uses.entry(module.clone()).or_default();
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let rest = &line[i + "crate::".len()..];
                    let end = rest
                        .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                        .unwrap_or(rest.len());
                    let other = &rest[..end];
                    if !other.is_empty() && other != module {
                        named.insert(other.to_string());
                    }
                }
            }
        }
    }
    uses
}

#[test]
fn imports_follow_the_documented_layering() {
    let rules = documented();
    let mut wrong = Vec::new();
    for (module, names) in used() {
        let Some(allowed) = rules.get(&module) else {
            wrong.push(format!("{module} is not in docs/architecture.md"));
            continue;
        };
        let Some(allowed) = allowed else { continue };
        for other in names.difference(allowed) {
            wrong.push(format!("{module} → {other}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that docs/architecture.md does not allow: {wrong:?}"
    );
}

#[test]
fn the_layering_points_one_way() {
    // A cycle would let a change anywhere ripple everywhere; the document must rule it out.
    let rules = documented();
    fn reaches(
        rules: &BTreeMap<String, Option<BTreeSet<String>>>,
        from: &str,
        to: &str,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let Some(Some(next)) = rules.get(from) else {
            return false;
        };
        next.iter()
            .any(|n| n == to || (seen.insert(n.clone()) && reaches(rules, n, to, seen)))
    }
    for (module, allowed) in &rules {
        if allowed.is_some() {
            assert!(
                !reaches(&rules, module, module, &mut BTreeSet::new()),
                "{module} reaches itself through the documented layering"
            );
        }
    }
}
