//! `gapmap._gapmap`: the native module under the `gapmap` Python package (`python/gapmap`).
//!
//! It is a thin layer on the `gapmap` library, as the command line is:
//! - **Keywords are flags.** A call's keywords are parsed by the very clap definitions the
//!   command line uses (the library's plans with the `clap` feature): `drop_distance_m=20`
//!   becomes `--drop-distance-m 20`. Names, defaults, ranges and messages are the CLI's, with
//!   no second copy ([`keywords`] lists them for the stubs and the tests).
//! - **Tables cross as Arrow C streams** (PyCapsules, `__arrow_c_stream__`), both ways, with no
//!   per-row Python work: inputs are registered as in-memory sources ([`register`]), results
//!   are handed out from the analysis' own tables ([`Analysis`]).
//! - **Runs happen off the calling thread** ([`run_blocking`]): the GIL is released, progress
//!   and notices are handed to Python every 50 ms on the calling thread, and Ctrl-C returns at
//!   once, asking the run to stop before it publishes anything.
//! - **Errors** are `gapmap.InputError` (the CLI's exit 2) and `gapmap.Error` (exit 1), with
//!   the CLI's message; a panic is caught and becomes `gapmap.Error`.

#![allow(
    clippy::result_large_err,
    reason = "gapmap::Error carries file, layer, feature and field for its messages"
)]

use std::collections::VecDeque;
use std::ffi::CStr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand};
use gapmap_io::arrow::{export_frame, import_stream, ArrowArrayStream};
use gapmap_io::read::memory::{register_layer, register_table, MemoryTable, Registered};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule, PyDict, PyList, PyTuple};

/// The analyses allocate many small buffers on several threads (see the CLI).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

create_exception!(
    gapmap,
    Error,
    PyException,
    "A failure of gapmap or of the machine (the command line's exit code 1)."
);
create_exception!(
    gapmap,
    InputError,
    Error,
    "Bad input or usage: a file, layer, field, feature or keyword that gapmap cannot use (the command line's exit code 2). The message is the command line's."
);

/// Broadband and mobile coverage gaps per premise and per settlement (the `gapmap` command line,
/// from the Python package: `python -m gapmap`).
#[derive(Debug, Parser)]
#[command(name = "gapmap", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per call: the size difference between subcommands does not matter"
)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Fibre and mobile coverage per premise and per settlement: tables, gap map, run record.
    Analyze(gapmap::AnalysisPlan),
    /// Whether the inputs of an analysis fit together: each layer's CRS, features and extent
    /// (also in lon/lat), and the share of the premises it reaches (the flags of analyze).
    Check(gapmap::AnalysisPlan),
    /// Seeded synthetic premises, fibre and mobile layers on real settlements and population.
    Synth(gapmap::synth::SynthPlan),
    /// Predicted mobile coverage from cell sites: coverage polygons, best server per premise.
    Predict(gapmap::predict::PredictPlan),
    /// An analysis aggregated to SCB grid squares, H3 cells and regions (kommun, län).
    Grid(gapmap::grid::GridPlan),
    /// Candidate fibre projects costed in SEK, and the ones a budget should fund.
    Prioritise(gapmap::prioritise::PrioritisePlan),
    /// An analysis as report.html (maps, tables), map.html (interactive, offline) and map.png.
    Report(gapmap::report::ReportPlan),
    /// Settlement polygons derived from premises the way SCB delimits tätorter.
    Settlements(gapmap::settlements::SettlementsPlan),
}

/// A gapmap error as the Python exception the CLI's exit code stands for.
fn to_py(e: gapmap::Error) -> PyErr {
    let message = gapmap_io::read::mask_secrets(&e.to_string());
    match e.is_bad_input() {
        true => InputError::new_err(message),
        false => Error::new_err(message),
    }
}

fn input_error(message: impl Into<String>) -> PyErr {
    InputError::new_err(message.into())
}

/// A keyword's value as command-line words: `None` and `False` give none.
fn words(value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if value.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(b) = value.extract::<bool>() {
        return Ok(if b { vec!["true".into()] } else { Vec::new() });
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let mut out = Vec::new();
        for v in value.try_iter()? {
            out.push(word(&v?)?);
        }
        return Ok(out);
    }
    Ok(vec![word(value)?])
}

/// One value as a word: `str`, `os.PathLike`, `int` or `float` (Python's shortest repr, which
/// reads back to the same `f64`).
fn word(v: &Bound<'_, PyAny>) -> PyResult<String> {
    if v.hasattr("__fspath__")? {
        return v.call_method0("__fspath__")?.extract::<String>();
    }
    if v.extract::<bool>().is_ok() {
        return Ok(v.str()?.to_string().to_lowercase());
    }
    if v.extract::<f64>().is_ok() || v.extract::<String>().is_ok() {
        return Ok(v.str()?.to_string());
    }
    Err(PyTypeError::new_err(format!(
        "a keyword value must be a str, path, number, bool or a list of them, not {}",
        v.get_type().name()?
    )))
}

/// The command line `command` with the keywords `kwargs`, parsed by clap into a subcommand.
fn parse(command: &str, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Command> {
    let mut cli = Cli::command();
    // Built, so that positional arguments know their index.
    cli.build();
    let Some(sub) = cli.find_subcommand(command) else {
        return Err(input_error(format!("no such command: {command}")));
    };
    let mut argv: Vec<String> = vec!["gapmap".into(), command.to_string()];
    let mut positional: Vec<(usize, Vec<String>)> = Vec::new();
    if let Some(kwargs) = kwargs {
        for (k, v) in kwargs.iter() {
            let key: String = k.extract()?;
            let Some(arg) = sub
                .get_arguments()
                .find(|a| a.get_id().as_str() == key && !a.is_hide_set())
            else {
                return Err(PyTypeError::new_err(format!(
                    "{command}() got an unexpected keyword argument '{key}'"
                )));
            };
            let values = words(&v)?;
            if let Some(index) = arg.get_index() {
                positional.push((index, values));
                continue;
            }
            let Some(long) = arg.get_long() else {
                return Err(Error::new_err(format!(
                    "{command}(): keyword '{key}' is neither a flag nor positional"
                )));
            };
            match arg.get_action() {
                ArgAction::SetTrue => {
                    if !v.is_none() && v.extract::<bool>().is_err() {
                        return Err(PyTypeError::new_err(format!(
                            "{command}(): keyword '{key}' is a switch: True or False, not {}",
                            v.get_type().name()?
                        )));
                    }
                    if !values.is_empty() {
                        argv.push(format!("--{long}"));
                    }
                }
                _ => {
                    let delimited = arg.get_value_delimiter().is_some();
                    let is_list = v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>();
                    if is_list && values.is_empty() && delimited {
                        // An empty list: `--scb ''`, none.
                        argv.push(format!("--{long}="));
                    }
                    for w in values {
                        argv.push(format!("--{long}={w}"));
                    }
                }
            }
        }
    }
    positional.sort_by_key(|p| p.0);
    if !positional.is_empty() {
        argv.push("--".into());
        for (_, values) in positional {
            argv.extend(values);
        }
    }
    let matches = Cli::command()
        .try_get_matches_from(&argv)
        .map_err(|e| input_error(clap_message(&e)))?;
    Cli::from_arg_matches(&matches)
        .map(|c| c.command)
        .map_err(|e| input_error(clap_message(&e)))
}

/// clap's message without its usage lines and `--help` hint: the CLI's `error: ...` up to
/// its first blank line, on one line. It names the flag (`--drop-distance-m`) as the CLI does,
/// and the values a flag takes (`[possible values: en, sv]`) or a tip when clap gives them.
fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    text.lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .to_string()
}

/// One keyword: `(name, default as the CLI spells it, help, repeated, flag, value name)`.
type Keyword = (String, Option<String>, String, bool, String, String);

/// `[(keyword, default, help, repeated, flag, value name)]` of `command`: what the stubs and docs list.
#[pyfunction]
fn keywords(command: &str) -> PyResult<Vec<Keyword>> {
    let mut cli = Cli::command();
    cli.build();
    let Some(sub) = cli.find_subcommand(command) else {
        return Err(input_error(format!("no such command: {command}")));
    };
    Ok(sub
        .get_arguments()
        .filter(|a| !a.is_hide_set() && a.get_id().as_str() != "help")
        .map(|a| {
            let defaults: Vec<String> = a
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().to_string())
                .collect();
            let repeated =
                matches!(a.get_action(), ArgAction::Append) || a.get_value_delimiter().is_some();
            let default = match (a.get_action(), defaults.is_empty()) {
                (ArgAction::SetTrue, _) => Some("false".to_string()),
                (_, true) => None,
                (_, false) => Some(defaults.join(",")),
            };
            let flag = match a.get_long() {
                Some(l) => format!("--{l}"),
                None => a.get_id().as_str().to_uppercase(),
            };
            let value_name = a
                .get_value_names()
                .and_then(|v| v.first())
                .map(|v| v.to_string())
                .unwrap_or_default();
            (
                a.get_id().to_string(),
                default,
                a.get_help().map(|h| h.to_string()).unwrap_or_default(),
                repeated,
                flag,
                value_name,
            )
        })
        .collect())
}

/// What the pipeline reports while it runs, kept until the calling thread hands it to Python.
#[derive(Default)]
struct Events {
    /// `(label, done, total)` of every task started or advanced since the last drain.
    progress: Vec<(u64, String, u64, Option<u64>, bool)>,
    notices: VecDeque<String>,
}

struct Reporter {
    events: Arc<Mutex<Events>>,
    next: AtomicU64,
}

struct Task {
    id: u64,
    label: String,
    total: Option<u64>,
    done: AtomicU64,
    events: Arc<Mutex<Events>>,
}

impl Task {
    fn push(&self, finished: bool) {
        if let Ok(mut e) = self.events.lock() {
            let done = self.done.load(Ordering::Relaxed);
            // One pending event per task: the latest.
            e.progress.retain(|p| p.0 != self.id || p.4);
            e.progress
                .push((self.id, self.label.clone(), done, self.total, finished));
        }
    }
}

impl gapmap::progress::Task for Task {
    fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
        self.push(false);
    }
    fn finish(&self) {
        if let Some(t) = self.total {
            self.done.store(t, Ordering::Relaxed);
        }
        self.push(true);
    }
}

impl gapmap::progress::Reporter for Reporter {
    fn start(&self, label: &str, len: Option<u64>) -> Box<dyn gapmap::progress::Task> {
        let t = Task {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            label: label.to_string(),
            total: len,
            done: AtomicU64::new(0),
            events: self.events.clone(),
        };
        t.push(false);
        Box::new(t)
    }
    fn notice(&self, text: &str) {
        if let Ok(mut e) = self.events.lock() {
            e.notices
                .push_back(gapmap_io::read::mask_secrets(text).to_string());
        }
    }
}

/// One gapmap run at a time per process: the reporter and the interrupt flag are the
/// process's, as a terminal is. `true` while a run's thread is alive, which may be after its
/// caller was interrupted and returned: the next run waits for it.
static RUNNING: Mutex<bool> = Mutex::new(false);
static DONE: std::sync::Condvar = std::sync::Condvar::new();

/// Waits (with the GIL released, and Ctrl-C heard) until no run's thread is alive, then
/// marks one as starting.
fn acquire(py: Python<'_>) -> PyResult<()> {
    loop {
        let free = py.detach(|| {
            let mut running = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
            if *running {
                running = DONE
                    .wait_timeout(running, Duration::from_millis(50))
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            if *running {
                false
            } else {
                *running = true;
                true
            }
        });
        if free {
            return Ok(());
        }
        py.check_signals()?;
    }
}

/// Marks the run's thread as ended.
fn release() {
    *RUNNING.lock().unwrap_or_else(|p| p.into_inner()) = false;
    DONE.notify_all();
}

/// Hands pending progress and notices to Python: `progress(label, done, total, finished)` and
/// `notice(text)`.
fn drain(
    py: Python<'_>,
    events: &Mutex<Events>,
    progress: Option<&Py<PyAny>>,
    notice: Option<&Py<PyAny>>,
) -> PyResult<()> {
    let (progress_events, notices) = match events.lock() {
        Ok(mut e) => (
            std::mem::take(&mut e.progress),
            std::mem::take(&mut e.notices),
        ),
        Err(_) => return Ok(()),
    };
    if let Some(cb) = progress {
        for (id, label, done, total, finished) in progress_events {
            cb.call1(py, (id, label, done, total, finished))?;
        }
    }
    if let Some(cb) = notice {
        for text in notices {
            cb.call1(py, (text,))?;
        }
    }
    Ok(())
}

/// Runs `f` on a thread of its own with the GIL released, and waits: progress and notices go to
/// the callbacks on this thread, and Ctrl-C (any pending Python signal) returns at once with
/// its exception, after asking the run to publish nothing.
fn run_blocking<T: Send + 'static>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    notice: Option<Py<PyAny>>,
    f: impl FnOnce() -> gapmap::Result<T> + Send + 'static,
) -> PyResult<T> {
    acquire(py)?;
    let events = Arc::new(Mutex::new(Events::default()));
    gapmap::progress::set_reporter(Some(Arc::new(Reporter {
        events: events.clone(),
        next: AtomicU64::new(0),
    })));
    gapmap_io::write::staging::interrupt(false);
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("gapmap".into())
        .spawn(move || {
            let r = guarded(f);
            // Released before the result is sent: a caller that has it may start the next run.
            release();
            let _ = tx.send(r);
        });
    if let Err(e) = spawned {
        gapmap::progress::set_reporter(None);
        release();
        return Err(Error::new_err(format!("cannot start a thread: {e}")));
    }
    let mut rx = rx;
    let outcome = loop {
        let (back, got) = py.detach(move || {
            let got = rx.recv_timeout(Duration::from_millis(50));
            (rx, got)
        });
        rx = back;
        drain(py, &events, progress.as_ref(), notice.as_ref())?;
        match got {
            Ok(r) => break r,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = py.check_signals() {
                    // The run goes on in the background until it next checks, and then
                    // publishes nothing; the caller gets the interrupt now.
                    gapmap_io::write::staging::interrupt(true);
                    return Err(e);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Error::new_err(
                    "gapmap's worker thread ended without a result",
                ));
            }
        }
    };
    // The run's thread has ended (it sent its outcome): nothing reports any more.
    gapmap::progress::set_reporter(None);
    outcome.map_err(to_py)
}

/// Runs `f`, turning a panic into `gapmap::Error::Internal`: no panic crosses into Python.
fn guarded<T>(f: impl FnOnce() -> gapmap::Result<T>) -> gapmap::Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(gapmap::Error::Internal(format!(
            "internal error (please report it): {what}"
        )))
    })
}

/// An input table handed over from Python, registered as a source the readers open by path;
/// it lives as long as this object.
#[pyclass(module = "gapmap._gapmap", frozen)]
struct Source {
    registered: Registered,
}

#[pymethods]
impl Source {
    /// The path to give the plan.
    #[getter]
    fn path(&self) -> String {
        self.registered.path().display().to_string()
    }
}

/// The C stream interface's struct, as the specification lays it out (polars-arrow keeps its
/// fields private): to mark a stream released once its contents have been moved out.
#[repr(C)]
struct RawStream {
    get_schema: *mut std::ffi::c_void,
    get_next: *mut std::ffi::c_void,
    get_last_error: *mut std::ffi::c_void,
    release: *mut std::ffi::c_void,
    private_data: *mut std::ffi::c_void,
}

/// Takes the Arrow C stream out of a capsule named `arrow_array_stream`.
fn take_stream(capsule: &Bound<'_, PyCapsule>) -> PyResult<Box<ArrowArrayStream>> {
    let expected: &CStr = c"arrow_array_stream";
    let ptr = capsule
        .pointer_checked(Some(expected))
        .map_err(|_| {
            PyTypeError::new_err("expected the capsule of an Arrow C stream (__arrow_c_stream__)")
        })?
        .as_ptr();
    // SAFETY: the capsule holds an ArrowArrayStream (its name says so), laid out as the C
    // interface prescribes (polars-arrow's struct and `RawStream` are both that layout). Its
    // contents are moved out and the original marked released, as the interface prescribes for
    // a consumer, so that the producer's capsule destructor does not release it again.
    let stream = unsafe {
        let taken = std::ptr::read(ptr as *const ArrowArrayStream);
        (*(ptr as *mut RawStream)).release = std::ptr::null_mut();
        taken
    };
    Ok(Box::new(stream))
}

/// Registers a table as an input: `role` is the keyword (`premises`, `settlements`, `fibre`,
/// ...), `stream` the capsule of `__arrow_c_stream__`, `geometry` the WKB column (`None`: x/y
/// columns, premises only), `crs` its CRS (WKT, PROJJSON or `AUTH:CODE`; `None`: `assume_crs`
/// applies).
#[pyfunction]
#[pyo3(signature = (role, stream, geometry, crs))]
fn register(
    py: Python<'_>,
    role: &str,
    stream: &Bound<'_, PyCapsule>,
    geometry: Option<String>,
    crs: Option<String>,
) -> PyResult<Source> {
    let stream = take_stream(stream)?;
    let what = format!("{role} (table in memory)");
    let role = role.to_string();
    py.detach(move || {
        guarded(move || {
            // SAFETY: the stream came from a producer's `__arrow_c_stream__`.
            let frame = unsafe { import_stream(stream, &what) }.map_err(gapmap::Error::from)?;
            let table = MemoryTable {
                frame,
                geometry,
                crs,
            };
            let registered = match role.as_str() {
                "premises" => register_table(&role, table),
                _ => register_layer(&role, &table, &what)?,
            };
            Ok::<_, gapmap::Error>(Source { registered })
        })
    })
    .map_err(to_py)
}

/// An Arrow C stream as a PyCapsule (`__arrow_c_stream__`'s return value).
fn stream_capsule(py: Python<'_>, stream: ArrowArrayStream) -> PyResult<Bound<'_, PyCapsule>> {
    let name = std::ffi::CString::from(c"arrow_array_stream");
    PyCapsule::new_with_destructor(py, stream, Some(name), |stream, _| {
        // A consumer that took the stream marked it released; otherwise release it here.
        drop(stream);
    })
}

/// The results of `gapmap.analyze`, held in Rust; the package's `Result` wraps them.
#[pyclass(module = "gapmap._gapmap", frozen)]
struct Analysis {
    results: Arc<Mutex<gapmap::analyze::Results>>,
    /// The run.json last written ([`Analysis::write`]).
    written: Mutex<Option<String>>,
}

type Table =
    fn(&gapmap::analyze::Results) -> gapmap::Result<Option<gapmap_io::write::tables::DataFrame>>;

impl Analysis {
    fn table(&self, py: Python<'_>, name: &str, make: Table) -> PyResult<Option<Py<PyCapsule>>> {
        let results = self.results.clone();
        let name = name.to_string();
        let stream = py
            .detach(move || {
                guarded(move || {
                    let r = results
                        .lock()
                        .map_err(|_| gapmap::Error::Internal("the results are poisoned".into()))?;
                    match make(&r)? {
                        Some(df) => Ok(Some(export_frame(&df, &name)?)),
                        None => Ok(None),
                    }
                })
            })
            .map_err(to_py)?;
        stream
            .map(|s| stream_capsule(py, s).map(|c| c.unbind()))
            .transpose()
    }
}

#[pymethods]
impl Analysis {
    /// settlements.csv's table as an Arrow stream capsule.
    fn settlements(&self, py: Python<'_>) -> PyResult<Option<Py<PyCapsule>>> {
        self.table(py, "settlements", |r| r.settlement_frame().map(Some))
    }
    /// premises.parquet's table.
    fn premises(&self, py: Python<'_>) -> PyResult<Option<Py<PyCapsule>>> {
        self.table(py, "premises", |r| r.premise_frame().map(Some))
    }
    /// The gap clusters with WKB outlines (working CRS).
    fn gaps(&self, py: Python<'_>) -> PyResult<Option<Py<PyCapsule>>> {
        self.table(py, "gaps", |r| r.gap_frame())
    }
    /// The white areas with WKB outlines.
    fn aid_areas(&self, py: Python<'_>) -> PyResult<Option<Py<PyCapsule>>> {
        self.table(py, "aid_areas", |r| r.aid_area_frame())
    }
    /// The critical corridors with WKB lines.
    fn critical_links(&self, py: Python<'_>) -> PyResult<Option<Py<PyCapsule>>> {
        self.table(py, "critical_links", |r| r.critical_link_frame())
    }
    /// `(label, wkt)` of the working CRS.
    fn crs(&self) -> PyResult<(String, String)> {
        let r = self
            .results
            .lock()
            .map_err(|_| Error::new_err("the results are poisoned"))?;
        Ok((r.crs.label.clone(), r.crs.wkt.clone()))
    }
    /// run.json as text: the one written last, else the record so far.
    fn run_info(&self) -> PyResult<String> {
        if let Ok(w) = self.written.lock() {
            if let Some(text) = w.as_ref() {
                return Ok(text.clone());
            }
        }
        let r = self
            .results
            .lock()
            .map_err(|_| Error::new_err("the results are poisoned"))?;
        serde_json::to_string_pretty(&r.run_info())
            .map_err(|e| Error::new_err(format!("run.json: {e}")))
    }
    /// The end-of-run summary `gapmap analyze` prints, once `files` files were written.
    fn summary(&self, files: usize) -> PyResult<String> {
        let r = self
            .results
            .lock()
            .map_err(|_| Error::new_err("the results are poisoned"))?;
        Ok(r.summary(files))
    }

    /// Writes every output into `out` as `gapmap analyze --out` does; returns the files.
    #[pyo3(signature = (out, overwrite, progress=None, notice=None))]
    fn write(
        &self,
        py: Python<'_>,
        out: PathBuf,
        overwrite: bool,
        progress: Option<Py<PyAny>>,
        notice: Option<Py<PyAny>>,
    ) -> PyResult<Vec<String>> {
        let results = self.results.clone();
        let dir = out.clone();
        let written = run_blocking(py, progress, notice, move || {
            let mut r = results
                .lock()
                .map_err(|_| gapmap::Error::Internal("the results are poisoned".into()))?;
            r.write(&dir, overwrite)
        })?;
        let run_json = std::fs::read_to_string(out.join("run.json"))
            .map_err(|e| Error::new_err(format!("{}: {e}", out.join("run.json").display())))?;
        if let Ok(mut w) = self.written.lock() {
            *w = Some(run_json);
        }
        Ok(written.iter().map(|p| p.display().to_string()).collect())
    }
}

/// Runs `f` with `threads` worker threads (`None`: all cores). The process's global pool
/// always has every core (it cannot be resized once built, and a notebook makes many calls);
/// `threads=n` runs `f`, and so every kernel, on a pool of `n` threads. The readers' threads
/// (one per input layer) still use the global pool for their own parallel steps.
fn with_threads<T: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> gapmap::Result<T> + Send,
) -> gapmap::Result<T> {
    gapmap::threads::init_global(None)?;
    match threads {
        Some(n) if n != rayon::current_num_threads() => {
            gapmap::error::check_threads(Some(n))?;
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| gapmap::Error::Internal(format!("cannot start worker threads: {e}")))?
                .install(f)
        }
        _ => f(),
    }
}

/// `gapmap.analyze`: reads and analyses; the results stay in memory until written.
#[pyfunction]
#[pyo3(signature = (kwargs, progress=None, notice=None))]
fn analyze(
    py: Python<'_>,
    kwargs: &Bound<'_, PyDict>,
    progress: Option<Py<PyAny>>,
    notice: Option<Py<PyAny>>,
) -> PyResult<Analysis> {
    let Command::Analyze(mut plan) = parse("analyze", Some(kwargs))? else {
        return Err(Error::new_err("not an analysis"));
    };
    let results = run_blocking(py, progress, notice, move || {
        with_threads(plan.threads, move || {
            let bundled = plan.use_bundled_region()?;
            let checked = plan.validate()?;
            let meta = gapmap::analyze::RunMeta::start();
            let inputs = gapmap::analyze::read_inputs(plan, checked, bundled, meta)?;
            gapmap_io::write::staging::check_interrupt()?;
            Ok(gapmap::analyze::compute(inputs))
        })
    })?;
    Ok(Analysis {
        results: Arc::new(Mutex::new(results)),
        written: Mutex::new(None),
    })
}

/// Any other subcommand, run as the command line runs it; returns its summary text.
#[pyfunction]
#[pyo3(signature = (command, kwargs, progress=None, notice=None))]
fn run(
    py: Python<'_>,
    command: &str,
    kwargs: &Bound<'_, PyDict>,
    progress: Option<Py<PyAny>>,
    notice: Option<Py<PyAny>>,
) -> PyResult<String> {
    let parsed = parse(command, Some(kwargs))?;
    run_command(py, parsed, progress, notice)
}

/// Runs a parsed subcommand; returns its summary (for `analyze`, the CLI's end-of-run summary).
fn run_command(
    py: Python<'_>,
    parsed: Command,
    progress: Option<Py<PyAny>>,
    notice: Option<Py<PyAny>>,
) -> PyResult<String> {
    run_blocking(py, progress, notice, move || match parsed {
        Command::Analyze(plan) => {
            let threads = plan.threads;
            with_threads(threads, move || {
                gapmap::analyze::run(plan).map(|a| a.summary())
            })
        }
        Command::Check(plan) => {
            let threads = plan.threads;
            with_threads(threads, move || gapmap::analyze::run_check(plan))
        }
        Command::Synth(plan) => with_threads(None, move || gapmap::synth::run(plan)),
        Command::Predict(plan) => with_threads(None, move || gapmap::predict::run(plan)),
        Command::Grid(plan) => with_threads(None, move || gapmap::grid::run(plan)),
        Command::Prioritise(plan) => with_threads(None, move || gapmap::prioritise::run(plan)),
        Command::Report(plan) => with_threads(None, move || gapmap::report::run(plan)),
        Command::Settlements(plan) => with_threads(None, move || gapmap::settlements::run(plan)),
    })
}

/// `python -m gapmap ARGS...`: the command line. Returns `(exit code, stdout, stderr)` for
/// what clap answers itself (help, version: 0; a usage error: 2, its message on stderr), else
/// runs the subcommand and returns `(0, its summary, "")`; a failure raises `InputError` or
/// `Error`, which the caller prints as the CLI does (`error: ...`, exit 2 or 1).
#[pyfunction]
#[pyo3(signature = (argv, progress=None, notice=None))]
fn main(
    py: Python<'_>,
    argv: Vec<String>,
    progress: Option<Py<PyAny>>,
    notice: Option<Py<PyAny>>,
) -> PyResult<(i32, String, String)> {
    let cli = match Cli::try_parse_from(std::iter::once("gapmap".to_string()).chain(argv)) {
        Ok(c) => c,
        Err(e) => {
            let text = e.render().to_string();
            return Ok(match e.use_stderr() {
                true => (2, String::new(), text),
                false => (0, text, String::new()),
            });
        }
    };
    let text = run_command(py, cli.command, progress, notice)?;
    Ok((0, text, String::new()))
}

/// A scenario for Python's runners: `(number, name, workload, analyze flags)`.
type ScenarioRow = (usize, String, String, Vec<String>);

/// A sweep of `gapmap batch` under way, for Python's runners (`python -m gapmap batch`,
/// `gapmap.distributed.batch`): the batch file read and its output staged by the library, the
/// scenarios run by the caller (in this process or as Ray tasks), then the tidy table written
/// and the output published by the library, as `gapmap batch` does.
#[pyclass(module = "gapmap._gapmap")]
struct BatchSweep {
    inner: Mutex<Option<gapmap::batch::Sweep>>,
}

#[pymethods]
impl BatchSweep {
    #[new]
    #[pyo3(signature = (config, out=None, overwrite=false))]
    fn new(config: PathBuf, out: Option<PathBuf>, overwrite: bool) -> PyResult<BatchSweep> {
        let sweep =
            guarded(|| gapmap::batch::Sweep::begin(&config, out, overwrite)).map_err(to_py)?;
        Ok(BatchSweep {
            inner: Mutex::new(Some(sweep)),
        })
    }

    /// The output directory, where the sweep is published when it finishes.
    #[getter]
    fn out(&self) -> PyResult<PathBuf> {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .map(|s| s.out().to_path_buf())
            .ok_or_else(|| Error::new_err("this sweep is finished"))
    }

    /// `[(number, name, workload, analyze flags)]`, in file order; the flags write the
    /// scenario's analysis into its directory in the staged output.
    fn scenarios(&self) -> PyResult<Vec<ScenarioRow>> {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let sweep = guard
            .as_ref()
            .ok_or_else(|| Error::new_err("this sweep is finished"))?;
        sweep
            .scenarios()
            .iter()
            .map(|s| {
                let args = sweep.analyze_args(s).map_err(to_py)?;
                Ok((s.index, s.name(), s.workload.clone(), args))
            })
            .collect()
    }

    /// Writes the tidy table of the scenarios' `outcomes` (`(error or None, seconds)` each,
    /// in order; a scenario without an error is read back from its directory) and publishes
    /// the output; returns the summary.
    fn finish(&self, py: Python<'_>, outcomes: Vec<(Option<String>, f64)>) -> PyResult<String> {
        let sweep = self
            .inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| Error::new_err("this sweep is finished"))?;
        py.detach(move || {
            guarded(move || {
                let outcomes: Vec<gapmap::batch::Outcome> = sweep
                    .scenarios()
                    .iter()
                    .zip(outcomes)
                    .map(|(s, (error, seconds))| match error {
                        Some(e) => gapmap::batch::Outcome::failed(e, None, seconds),
                        None => gapmap::batch::Outcome::read(&sweep.dir(s), seconds),
                    })
                    .collect();
                sweep.finish(&outcomes)
            })
        })
        .map_err(to_py)
    }
}

/// A partitioned analysis (`gapmap::analyze::tiles`) held in this process: its inputs read
/// and indexed once, its tiles computed on request, and, in the process that merges them, the
/// whole run's results. `gapmap.distributed.analyze` holds one in the driver and one in each
/// Ray actor.
#[pyclass(module = "gapmap._gapmap", frozen)]
struct TiledAnalysis {
    run: Mutex<Option<Arc<gapmap::analyze::tiles::TiledRun>>>,
    /// The parts of the tiles computed here ([`TiledAnalysis::keep_tile`]), merged as they
    /// come.
    kept: Arc<Mutex<Option<gapmap::analyze::tiles::Merger>>>,
    /// The plan as read, with the bundled region filled in: what the workers read.
    plan_json: String,
}

/// The plan of `gapmap analyze ARGS...` (the command line's flags); a bad flag is an
/// `InputError` with clap's message.
fn analyze_args(args: Vec<String>) -> PyResult<gapmap::AnalysisPlan> {
    let argv = ["gapmap".to_string(), "analyze".to_string()]
        .into_iter()
        .chain(args);
    let cli = Cli::try_parse_from(argv).map_err(|e| input_error(clap_message(&e)))?;
    match cli.command {
        Command::Analyze(plan) => Ok(plan),
        _ => Err(Error::new_err("not an analysis")),
    }
}

/// `plan` checked, with the bundled region filled in when it names no input: `(plan as JSON,
/// whether it is the bundled region)`.
fn checked_plan(mut plan: gapmap::AnalysisPlan) -> PyResult<(String, bool)> {
    guarded(|| {
        let bundled = plan.use_bundled_region()?;
        plan.validate()?;
        let json = serde_json::to_string(&plan)
            .map_err(|e| gapmap::Error::Internal(format!("an analysis plan as JSON: {e}")))?;
        Ok((json, bundled))
    })
    .map_err(to_py)
}

impl TiledAnalysis {
    fn held(&self) -> PyResult<Arc<gapmap::analyze::tiles::TiledRun>> {
        self.run
            .lock()
            .map_err(|_| Error::new_err("the tiled analysis is poisoned"))?
            .clone()
            .ok_or_else(|| Error::new_err("the tiled analysis was merged already"))
    }
}

#[pymethods]
impl TiledAnalysis {
    /// The plan of `gapmap.analyze(**kwargs)`, checked, with the bundled region filled in when
    /// no input is named: `(plan as JSON, whether it is the bundled region)`. Nothing is read.
    #[staticmethod]
    fn plan(kwargs: &Bound<'_, PyDict>) -> PyResult<(String, bool)> {
        let Command::Analyze(plan) = parse("analyze", Some(kwargs))? else {
            return Err(Error::new_err("not an analysis"));
        };
        checked_plan(plan)
    }

    /// The plan of `gapmap analyze ARGS...` (the command line's flags), as
    /// [`TiledAnalysis::plan`] gives it.
    #[staticmethod]
    fn plan_args(args: Vec<String>) -> PyResult<(String, bool)> {
        checked_plan(analyze_args(args)?)
    }

    /// Reads the inputs of a plan ([`TiledAnalysis::plan`]) and splits the premises into tiles
    /// of `tile_size_m`.
    #[new]
    #[pyo3(signature = (plan_json, bundled, tile_size_m, progress=None, notice=None))]
    fn new(
        py: Python<'_>,
        plan_json: &str,
        bundled: bool,
        tile_size_m: f64,
        progress: Option<Py<PyAny>>,
        notice: Option<Py<PyAny>>,
    ) -> PyResult<TiledAnalysis> {
        let plan: gapmap::AnalysisPlan = serde_json::from_str(plan_json)
            .map_err(|e| input_error(format!("not an analysis plan: {e}")))?;
        let plan_json = plan_json.to_string();
        let run = run_blocking(py, progress, notice, move || {
            with_threads(plan.threads, move || {
                if let Some(dir) = plan.premises.as_ref().and_then(|p| p.parent()) {
                    if bundled {
                        gapmap::progress::notice(&gapmap::analyze::plan::bundled_notice(dir));
                    }
                }
                let checked = plan.validate()?;
                let meta = gapmap::analyze::RunMeta::start();
                let inputs = gapmap::analyze::read_inputs(plan, checked, bundled, meta)?;
                gapmap_io::write::staging::check_interrupt()?;
                gapmap::analyze::tiles::TiledRun::new(inputs, tile_size_m)
            })
        })?;
        Ok(TiledAnalysis {
            run: Mutex::new(Some(Arc::new(run))),
            kept: Arc::new(Mutex::new(None)),
            plan_json,
        })
    }

    /// The plan, as JSON.
    fn plan_json(&self) -> String {
        self.plan_json.clone()
    }

    /// Every tile: `(column, row, premises it owns)`, in the order tiles are numbered.
    fn tiles(&self) -> PyResult<Vec<(i64, i64, usize)>> {
        let run = self.held()?;
        let t = run.tiling();
        Ok((0..t.len())
            .map(|k| (t.key(k).col, t.key(k).row, t.own(k).len()))
            .collect())
    }

    /// Computes tile `k`; returns its part as bytes, recording `worker` as where it ran.
    fn run_tile(&self, py: Python<'_>, k: usize, worker: String) -> PyResult<Py<PyBytes>> {
        let run = self.held()?;
        let bytes = run_blocking(py, None, None, move || {
            let mut part = run.run_tile(k)?;
            part.info.worker = worker;
            Ok(part.to_bytes())
        })?;
        Ok(PyBytes::new(py, &bytes).unbind())
    }

    /// Computes tile `k` and keeps its part here, for [`TiledAnalysis::assemble`] in this
    /// process (no bytes); returns `(premises, seconds)`.
    fn keep_tile(&self, py: Python<'_>, k: usize, worker: String) -> PyResult<(u64, f64)> {
        let run = self.held()?;
        let kept = Arc::clone(&self.kept);
        run_blocking(py, None, None, move || {
            let mut part = run.run_tile(k)?;
            part.info.worker = worker;
            let info = (part.info.premises, part.info.seconds);
            let mut kept = kept
                .lock()
                .map_err(|_| gapmap::Error::Internal("the kept tiles are poisoned".into()))?;
            kept.get_or_insert_with(|| run.merger()).add(&run, part)?;
            Ok(info)
        })
    }

    /// Starts building the fibre network of the resilience analysis (with a backbone) beside
    /// the tiles, for the merge in this process ([`TiledRun::start_network`]).
    fn start_network(&self) -> PyResult<()> {
        self.held()?.start_network().map_err(to_py)
    }

    /// Run-record notices so far (the working CRS, the readers'), in order.
    fn notices(&self) -> PyResult<Vec<String>> {
        Ok(self.held()?.notices().to_vec())
    }

    /// Merges the parts of every tile (bytes from [`TiledAnalysis::run_tile`], and those kept
    /// here, in any order) into the results of the whole run; a tile that no part is given
    /// for is computed here first (kept parts are lost when a Ray actor restarts). The tiled
    /// analysis is used up.
    #[pyo3(signature = (parts, progress=None, notice=None))]
    fn assemble(
        &self,
        py: Python<'_>,
        parts: Vec<Bound<'_, PyBytes>>,
        progress: Option<Py<PyAny>>,
        notice: Option<Py<PyAny>>,
    ) -> PyResult<Analysis> {
        let run = self
            .run
            .lock()
            .map_err(|_| Error::new_err("the tiled analysis is poisoned"))?
            .take()
            .ok_or_else(|| Error::new_err("the tiled analysis was merged already"))?;
        let run = Arc::try_unwrap(run)
            .map_err(|_| Error::new_err("a tile is still being computed; merge after it"))?;
        let mut merger = self
            .kept
            .lock()
            .map_err(|_| Error::new_err("the kept tiles are poisoned"))?
            .take()
            .unwrap_or_else(|| run.merger());
        // One part decoded at a time, and let go once merged.
        for b in &parts {
            let part = gapmap::analyze::tiles::TilePart::from_bytes(b.as_bytes()).map_err(to_py)?;
            merger.add(&run, part).map_err(to_py)?;
        }
        drop(parts);
        let results = run_blocking(py, progress, notice, move || {
            let tiling = run.tiling();
            for k in 0..tiling.len() {
                if !merger.has(&run, tiling.key(k)) {
                    let part = run.run_tile(k)?;
                    merger.add(&run, part)?;
                }
            }
            run.finish_merge(merger)
        })?;
        Ok(Analysis {
            results: Arc::new(Mutex::new(results)),
            written: Mutex::new(None),
        })
    }
}

/// The workload this process holds between the scenarios of a sweep ([`analyze_held`]).
static WORKLOAD: Mutex<Option<gapmap::analyze::WorkloadCache>> = Mutex::new(None);

/// `gapmap analyze ARGS...` (the command line's flags), with the inputs taken from the
/// workload this process holds when the plan reads the same inputs the same way, else read and
/// then held (`gapmap::analyze::run_cached`): a sweep's worker reads a workload once. Returns
/// `(the summary, how many times this process has read inputs)`.
#[pyfunction]
#[pyo3(signature = (args, progress=None, notice=None))]
fn analyze_held(
    py: Python<'_>,
    args: Vec<String>,
    progress: Option<Py<PyAny>>,
    notice: Option<Py<PyAny>>,
) -> PyResult<(String, usize)> {
    let plan = analyze_args(args)?;
    run_blocking(py, progress, notice, move || {
        with_threads(plan.threads, move || {
            let mut held = WORKLOAD.lock().unwrap_or_else(|e| e.into_inner());
            let cache = held.get_or_insert_with(gapmap::analyze::WorkloadCache::new);
            let summary = gapmap::analyze::run_cached(plan, cache).map(|a| a.summary())?;
            Ok((summary, cache.reads()))
        })
    })
}

/// `gapmap batch --dry-run`: each scenario and its `analyze` flags.
#[pyfunction]
#[pyo3(signature = (config, out=None))]
fn batch_dry_run(config: PathBuf, out: Option<PathBuf>) -> PyResult<String> {
    guarded(|| gapmap::batch::sweep::dry_run(&config, out)).map_err(to_py)
}

/// The native module.
#[pymodule]
fn _gapmap(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Source>()?;
    m.add_class::<Analysis>()?;
    m.add_class::<BatchSweep>()?;
    m.add_class::<TiledAnalysis>()?;
    m.add_function(wrap_pyfunction!(batch_dry_run, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_held, m)?)?;
    m.add_function(wrap_pyfunction!(keywords, m)?)?;
    m.add_function(wrap_pyfunction!(register, m)?)?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    Ok(())
}
