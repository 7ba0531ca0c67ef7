//! `cargo xtask chart`: the Helm chart and the workflows checked by the
//! tools that consume them (built from their Go modules by
//! `xtask/stack/tools.sh`, cached outside the clone):
//!
//! - `helm lint --strict` with the default, Minikube and cloud values;
//!   `values.schema.json` must reject a misspelled value;
//! - `helm template` for both values files, then every rendered object
//!   sent to a real `kube-apiserver` (+ etcd, Dapr's CRDs applied) as a
//!   server-side dry run with strict field validation;
//! - what the server accepted is then read back: every service runs
//!   `todo-host serve --component <id>` with its Dapr annotations, the
//!   cloud values deploy by digest, no Secret is rendered, the ingress
//!   routes agree with spin.toml;
//! - the packaged chart renders exactly as the directory (the `dapr`
//!   link into the repository's dapr/ folder is followed);
//! - `actionlint` on `.github/workflows`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use crate::stack::run_script;

const RELEASE: &str = "todo";
const NAMESPACE: &str = "todo";
/// A digest the cloud values are rendered with (promotion pins one).
const SAMPLE_DIGEST: &str =
    "sha256:1e25b226af4e3915f262d1bb877d443a68a3f89da1d6cb838ac2052ff72ac00c";
/// The Prometheus Operator release whose ServiceMonitor CRD the cloud
/// values need (its Go module carries the CRDs).
const PROMETHEUS_OPERATOR: &str = "github.com/prometheus-operator/prometheus-operator@v0.85.0";

struct Tools {
    helm: PathBuf,
    kubectl: PathBuf,
}

pub fn check(root: &Path, target: &Path) -> Result<()> {
    let scripts = root.join("xtask/stack");
    let tool = |name: &str| run_script(&scripts, "tools.sh", &[name]).map(PathBuf::from);
    let tools = Tools {
        helm: tool("helm")?,
        kubectl: tool("kubectl")?,
    };
    let actionlint = tool("actionlint")?;
    let shellcheck = tool("shellcheck")?;
    let chart = root.join("helm/todo-app");
    let out = target.join("chart");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out)?;

    lint(&tools, &chart)?;
    let renders = [
        (
            "minikube",
            render(&tools, &chart, &chart.join("values-minikube.yaml"), &[])?,
        ),
        (
            "cloud",
            render(
                &tools,
                &chart,
                &chart.join("values-cloud.yaml"),
                &["--set", &format!("global.image.digest={SAMPLE_DIGEST}")],
            )?,
        ),
    ];
    packaged_renders_the_same(&tools, &chart, &out, &renders[0].1)?;

    let kube = Kube::start(&scripts, &out.join("kube"), &tools)?;
    kube.prepare()?;
    kube.refuses_a_misspelled_field(&out)?;
    for (name, yaml) in &renders {
        let file = out.join(format!("{name}.yaml"));
        std::fs::write(&file, yaml)?;
        let accepted = kube.dry_run(&file)?;
        let objects = accepted["items"].as_array().context("a List")?;
        let documents = yaml.lines().filter(|l| l.starts_with("kind: ")).count();
        ensure!(
            objects.len() == documents,
            "{name}: {documents} rendered documents, {} accepted",
            objects.len()
        );
        check_objects(root, name, objects)?;
        println!(
            "chart: {name} values: {} objects accepted by kube-apiserver (server-side dry run)",
            objects.len()
        );
    }
    drop(kube);

    let status = Command::new(&actionlint)
        .arg("-no-color")
        .arg("-shellcheck")
        .arg(&shellcheck)
        .current_dir(root)
        .status()
        .context("running actionlint")?;
    ensure!(
        status.success(),
        "actionlint found problems in .github/workflows"
    );
    println!("chart: actionlint (with shellcheck) clean on .github/workflows");
    Ok(())
}

fn lint(tools: &Tools, chart: &Path) -> Result<()> {
    for values in [
        None,
        Some("values-minikube.yaml"),
        Some("values-cloud.yaml"),
    ] {
        let mut cmd = Command::new(&tools.helm);
        cmd.args(["lint", "--strict"]).arg(chart);
        if let Some(v) = values {
            cmd.arg("-f").arg(chart.join(v));
        }
        let out = output(&mut cmd)?;
        ensure!(
            out.status.success(),
            "helm lint ({}) failed:\n{}{}",
            values.unwrap_or("defaults"),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The schema rejects what a typo would otherwise silently ignore.
    let out = output(
        Command::new(&tools.helm)
            .args(["template", RELEASE])
            .arg(chart)
            .args([
                "--set",
                "global.image.tagg=1.0",
                "--set",
                "chat-api.replicas=3",
            ]),
    )?;
    let err = String::from_utf8_lossy(&out.stderr);
    ensure!(
        !out.status.success() && err.contains("tagg") && err.contains("replicas"),
        "values.schema.json accepted misspelled values (status {}): {err}",
        out.status
    );
    println!(
        "chart: helm lint --strict clean (defaults, minikube, cloud); misspelled values rejected"
    );
    Ok(())
}

/// `helm template` of `chart` (a folder or a packaged archive).
fn render(tools: &Tools, chart: &Path, values: &Path, extra: &[&str]) -> Result<String> {
    let out = output(
        Command::new(&tools.helm)
            .args(["template", RELEASE])
            .arg(chart)
            .args(["--namespace", NAMESPACE, "-f"])
            .arg(values)
            .args(extra),
    )?;
    ensure!(
        out.status.success(),
        "helm template {} -f {} failed: {}",
        chart.display(),
        values.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// `helm package` follows the `dapr` link; the archive renders the same.
fn packaged_renders_the_same(
    tools: &Tools,
    chart: &Path,
    out: &Path,
    expected: &str,
) -> Result<()> {
    let status = Command::new(&tools.helm)
        .arg("package")
        .arg(chart)
        .arg("--destination")
        .arg(out)
        .stdout(std::process::Stdio::null())
        .status()?;
    ensure!(status.success(), "helm package failed");
    let archive = std::fs::read_dir(out)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "tgz"))
        .context("helm package wrote no archive")?;
    // The values file comes from the directory (`-f` cannot name a file
    // inside an archive).
    let packaged = render(tools, &archive, &chart.join("values-minikube.yaml"), &[])?;
    ensure!(
        packaged == expected,
        "the packaged chart renders differently from helm/todo-app"
    );
    println!("chart: packaged as {}", archive.display());
    Ok(())
}

/// What the server accepted, read back.
fn check_objects(root: &Path, name: &str, objects: &[Value]) -> Result<()> {
    let kind = |o: &Value| o["kind"].as_str().unwrap_or_default().to_owned();
    ensure!(
        !objects.iter().any(|o| kind(o) == "Secret"),
        "{name}: the chart renders a Secret (secrets are created outside it)"
    );
    let dapr_kinds: BTreeSet<String> = objects
        .iter()
        .filter(|o| {
            o["apiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("dapr.io/"))
        })
        .map(|o| {
            format!(
                "{}/{}",
                kind(o),
                o["metadata"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    for expected in [
        "Component/pubsub",
        "Component/pubsub-broadcast",
        "Component/statestore",
        "Component/statestore-durable",
        "Component/secretstore",
        "Configuration/todo-config",
        "Resiliency/todo-resiliency",
    ] {
        ensure!(dapr_kinds.contains(expected), "{name}: no Dapr {expected}");
    }
    // A service per component of spin.toml.
    for service in crate::app::components(root)?.iter().map(|c| c.id.as_str()) {
        let workload = objects
            .iter()
            .find(|o| {
                matches!(kind(o).as_str(), "Deployment" | "StatefulSet")
                    && o["metadata"]["name"] == format!("{RELEASE}-{service}")
            })
            .with_context(|| format!("{name}: no workload for {service}"))?;
        let pod = &workload["spec"]["template"];
        let annotations = &pod["metadata"]["annotations"];
        ensure!(
            annotations["dapr.io/app-id"] == service && annotations["dapr.io/enabled"] == "true",
            "{name}: {service} lacks its Dapr annotations"
        );
        let host = &pod["spec"]["containers"][0];
        let args: Vec<&str> = host["args"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        ensure!(
            args.starts_with(&["serve", "--component", service]),
            "{name}: {service} runs {args:?}"
        );
        let image = host["image"].as_str().unwrap_or_default();
        if name == "cloud" {
            ensure!(
                image.ends_with(&format!("@{SAMPLE_DIGEST}")),
                "{name}: {service} is not deployed by digest: {image}"
            );
        }
        for probe in ["livenessProbe", "readinessProbe"] {
            ensure!(host[probe].is_object(), "{name}: {service} has no {probe}");
        }
        let has = |k: &str| {
            objects
                .iter()
                .any(|o| kind(o) == k && o["metadata"]["name"] == format!("{RELEASE}-{service}"))
        };
        ensure!(has("PodDisruptionBudget"), "{name}: {service} has no PDB");
        ensure!(
            has("NetworkPolicy"),
            "{name}: {service} has no NetworkPolicy"
        );
        if matches!(service, "chat-api" | "websocket") && name == "cloud" {
            ensure!(
                has("HorizontalPodAutoscaler"),
                "{name}: {service} has no HPA"
            );
        }
        // Its sidecar may read the Secrets its components name, and only
        // by name (the Kubernetes secret store uses the pod's account).
        let account = format!("{RELEASE}-{service}");
        ensure!(
            pod["spec"]["serviceAccountName"] == account.as_str(),
            "{name}: {service} does not run as its own service account"
        );
        let bound = objects.iter().any(|o| {
            kind(o) == "RoleBinding"
                && o["subjects"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|s| s["name"] == account.as_str()))
        });
        ensure!(bound, "{name}: {account} may not read its Secrets");
    }
    let readable_by_name = objects.iter().filter(|o| kind(o) == "Role").all(|role| {
        role["rules"].as_array().into_iter().flatten().all(|r| {
            r["resources"] != serde_json::json!(["secrets"])
                || r["resourceNames"].as_array().is_some_and(|n| !n.is_empty())
        })
    });
    ensure!(
        readable_by_name,
        "{name}: a Role reads Secrets beyond the ones named"
    );
    ingress_matches_spin_toml(root, name, objects)
}

/// The ingress routes exactly spin.toml's public routes to their
/// components' services (`X/...` as a Prefix, a plain path as Exact).
fn ingress_matches_spin_toml(root: &Path, name: &str, objects: &[Value]) -> Result<()> {
    let manifest: toml::Table = std::fs::read_to_string(root.join("spin.toml"))?.parse()?;
    let mut expected = BTreeSet::new();
    for trigger in ["http", "websocket"] {
        for t in manifest["trigger"][trigger]
            .as_array()
            .into_iter()
            .flatten()
        {
            let route = t["route"].as_str().context("a route")?;
            let component = t["component"].as_str().context("a component")?;
            let (path, kind) = match route.strip_suffix("/...") {
                Some("") => ("/".to_owned(), "Prefix"),
                Some(prefix) => (prefix.to_owned(), "Prefix"),
                None => (route.to_owned(), "Exact"),
            };
            expected.insert((path, kind.to_owned(), format!("{RELEASE}-{component}")));
        }
    }
    let ingress = objects
        .iter()
        .find(|o| o["kind"] == "Ingress")
        .with_context(|| format!("{name}: no Ingress"))?;
    let mut actual = BTreeSet::new();
    for rule in ingress["spec"]["rules"].as_array().into_iter().flatten() {
        for p in rule["http"]["paths"].as_array().into_iter().flatten() {
            actual.insert((
                p["path"].as_str().unwrap_or_default().to_owned(),
                p["pathType"].as_str().unwrap_or_default().to_owned(),
                p["backend"]["service"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ));
        }
    }
    if actual != expected {
        bail!(
            "{name}: the ingress and spin.toml disagree\n  only in the ingress: {:?}\n  only in spin.toml: {:?}",
            actual.difference(&expected).collect::<Vec<_>>(),
            expected.difference(&actual).collect::<Vec<_>>()
        );
    }
    Ok(())
}

/// A real kube-apiserver + etcd on loopback (xtask/stack/kube.sh), stopped
/// on drop.
struct Kube<'a> {
    scripts: PathBuf,
    dir: PathBuf,
    kubeconfig: String,
    tools: &'a Tools,
}

impl<'a> Kube<'a> {
    fn start(scripts: &Path, dir: &Path, tools: &'a Tools) -> Result<Self> {
        let started = std::time::Instant::now();
        let line = run_script(scripts, "kube.sh", &["start", &dir.display().to_string()])?;
        let kubeconfig = line
            .strip_prefix("KUBECONFIG=")
            .with_context(|| format!("kube.sh printed {line}"))?
            .to_owned();
        println!(
            "chart: kube-apiserver up with Dapr's CRDs in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        Ok(Kube {
            scripts: scripts.to_path_buf(),
            dir: dir.to_path_buf(),
            kubeconfig,
            tools,
        })
    }

    fn kubectl(&self) -> Command {
        let mut cmd = Command::new(&self.tools.kubectl);
        cmd.env("KUBECONFIG", &self.kubeconfig);
        cmd
    }

    /// The namespace (a dry run cannot hold objects in a namespace that
    /// exists only in the dry run) and the ServiceMonitor CRD, for real.
    fn prepare(&self) -> Result<()> {
        let out = output(self.kubectl().args(["create", "namespace", NAMESPACE]))?;
        ensure!(
            out.status.success(),
            "creating the namespace: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let crd = prometheus_operator_dir()?
            .join("example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml");
        for args in [
            vec![
                "apply",
                "--server-side",
                "-f",
                crd.to_str().context("utf-8 path")?,
            ],
            vec![
                "wait",
                "--for=condition=Established",
                "--timeout=60s",
                "crd/servicemonitors.monitoring.coreos.com",
            ],
        ] {
            let out = output(self.kubectl().args(&args))?;
            ensure!(
                out.status.success(),
                "kubectl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// The dry run means something: a misspelled field is refused.
    fn refuses_a_misspelled_field(&self, out: &Path) -> Result<()> {
        let file = out.join("misspelled.yaml");
        std::fs::write(
            &file,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: misspelled\ndatta:\n  a: b\n",
        )?;
        match self.dry_run(&file) {
            Err(e) if e.to_string().contains("unknown field \"datta\"") => Ok(()),
            Err(e) => bail!("a misspelled field was refused for another reason: {e}"),
            Ok(_) => {
                bail!("kube-apiserver accepted a misspelled field: the dry run checks nothing")
            }
        }
    }

    /// `kubectl apply --dry-run=server` (strict field validation) of every
    /// object in `file`; what the server returned.
    fn dry_run(&self, file: &Path) -> Result<Value> {
        let out = output(
            self.kubectl()
                .args([
                    "apply",
                    "--dry-run=server",
                    "--validate=strict",
                    "-n",
                    NAMESPACE,
                ])
                .args(["-o", "json", "-f"])
                .arg(file),
        )?;
        ensure!(
            out.status.success(),
            "kube-apiserver refused {}:\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let value: Value = serde_json::from_slice(&out.stdout)?;
        // One object comes back bare, several as a List.
        Ok(if value["kind"] == "List" {
            value
        } else {
            serde_json::json!({ "items": [value] })
        })
    }
}

impl Drop for Kube<'_> {
    fn drop(&mut self) {
        let _ = run_script(
            &self.scripts,
            "kube.sh",
            &["stop", &self.dir.display().to_string()],
        );
    }
}

fn prometheus_operator_dir() -> Result<PathBuf> {
    let cache = std::env::var("TODO_STACK_CACHE")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".cache/todo-stack")))?;
    let out = output(
        Command::new("go")
            .args(["mod", "download", "-json", PROMETHEUS_OPERATOR])
            .env("GOMODCACHE", cache.join("go/mod"))
            .env("GOFLAGS", "-modcacherw")
            .env("GOTOOLCHAIN", "local"),
    )?;
    ensure!(
        out.status.success(),
        "go mod download {PROMETHEUS_OPERATOR} failed"
    );
    let info: Value = serde_json::from_slice(&out.stdout)?;
    Ok(PathBuf::from(info["Dir"].as_str().context("module dir")?))
}

fn output(cmd: &mut Command) -> Result<Output> {
    cmd.output()
        .with_context(|| format!("running {:?}", cmd.get_program()))
}
