//! Draws a workflow as Graphviz DOT or Mermaid text. Declines are dashed.
use super::Workflow;

fn id(s: &str) -> String {
    s.replace('-', "_")
}

fn quote(s: &str) -> String {
    s.replace('"', "'")
}

pub fn dot(wf: &Workflow) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n  rankdir=TB;\n  label=\"{} (v{})\";\n  node [shape=box, style=rounded];\n",
        wf.name(),
        quote(&wf.def.title),
        wf.version()
    );
    for s in &wf.def.states {
        let deadline = s
            .deadline
            .as_ref()
            .map(|d| format!("\\n{}", describe_deadline(d)))
            .unwrap_or_default();
        let shape = if s.terminal {
            ", shape=doubleoctagon"
        } else {
            ""
        };
        let start = if s.id == wf.def.initial {
            ", penwidth=2"
        } else {
            ""
        };
        out.push_str(&format!(
            "  {} [label=\"{}{}\"{}{}];\n",
            id(&s.id),
            quote(&s.title),
            deadline,
            shape,
            start
        ));
    }
    for t in &wf.def.transitions {
        for from in &t.from {
            let style = if t.decline { ", style=dashed" } else { "" };
            out.push_str(&format!(
                "  {} -> {} [label=\"{}\"{}];\n",
                id(from),
                id(&t.to),
                quote(&t.event),
                style
            ));
        }
    }
    out.push_str("}\n");
    out
}

pub fn mermaid(wf: &Workflow) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    out.push_str(&format!("  [*] --> {}\n", id(&wf.def.initial)));
    for s in &wf.def.states {
        out.push_str(&format!(
            "  {} : {}\n",
            id(&s.id),
            quote(&s.title).replace(':', " -")
        ));
    }
    for t in &wf.def.transitions {
        for from in &t.from {
            let mark = if t.decline { " (decline)" } else { "" };
            out.push_str(&format!(
                "  {} --> {} : {}{}\n",
                id(from),
                id(&t.to),
                t.event,
                mark
            ));
        }
    }
    for s in wf.def.states.iter().filter(|s| s.terminal) {
        out.push_str(&format!("  {} --> [*]\n", id(&s.id)));
    }
    out
}

pub fn describe_deadline(d: &super::definition::DeadlineSpec) -> String {
    match (d.working_days, d.hours, d.months) {
        (Some(n), _, _) => format!("within {n} working day{}", if n == 1 { "" } else { "s" }),
        (_, Some(n), _) => format!("within {n} hour{}", if n == 1 { "" } else { "s" }),
        (_, _, Some(n)) => format!("within {n} month{}", if n == 1 { "" } else { "s" }),
        _ => String::new(),
    }
}
