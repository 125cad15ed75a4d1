//! The command line's arguments as clap reads them: the commands, their actions and options.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use cunji_store::ImportKind;

#[derive(Parser)]
#[command(
    name = "cunji",
    version,
    about = "村集 cunji：村级集体经济收入、分档、扶持资金与村干部激励的精确台账"
)]
pub struct Cli {
    /// 数据库地址（sqlite://文件 或 postgres://…）
    #[arg(
        long,
        global = true,
        env = "CUNJI_DB",
        default_value = "sqlite://cunji.db"
    )]
    pub db: String,
    /// 操作人（写入审计日志）
    #[arg(long, global = true, env = "CUNJI_USER")]
    pub user: Option<String>,
    /// 日志格式（写到标准错误）：text 或 json
    #[arg(long, global = true, env = "CUNJI_LOG_FORMAT", value_parser = ["text", "json"], default_value = "text")]
    pub log_format: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// 导入文件（CSV，UTF-8 或 GBK/GB18030）：全部正确才入库，任何一行有错则一行也不存；
    /// statement-book 导入收益及收益分配表工作簿（可多个文件，每张工作表一个村一年）
    Import {
        #[arg(value_parser = import_kind_parser())]
        kind: String,
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
        /// statement-book：按村名在此地区内查找村
        #[arg(long)]
        region: Option<String>,
    },
    /// 生成年度报告
    Report {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        policy: PathBuf,
        /// 只看这一区划及其下级（12 位区划代码）
        #[arg(long)]
        region: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// 写入文件（默认输出到屏幕）
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 导出各村各年各科目的合计（CSV：村代码、年度、科目、金额（元）、笔数），由入库时保持的合计直接读出
    Totals {
        /// 写入文件（默认输出到屏幕）
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 某村某年结账：结账后不再接受该年的账目
    Close {
        #[arg(long)]
        village: String,
        #[arg(long)]
        year: i32,
    },
    /// 重新开账（县级管理员，须写明理由；记入审计日志）
    Reopen {
        #[arg(long)]
        village: String,
        #[arg(long)]
        year: i32,
        #[arg(long)]
        reason: String,
    },
    /// 审计日志：查看（最近的在前）、核验（重算哈希链并逐笔核对分录和扶持资金）、导出
    Audit {
        #[command(subcommand)]
        action: Option<AuditAction>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// 新建演示县（饶阳县）数据库，打印其年度报告，然后启动网页服务
    Demo {
        /// 演示数据库文件（每次重建）
        #[arg(long, default_value = "cunji-demo.db")]
        file: PathBuf,
        /// 网页服务地址
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// 只建库和打印报告，不启动网页服务
        #[arg(long)]
        no_serve: bool,
    },
    /// 启动网页服务
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// 二维码中印的网址前缀，如 https://cunji.example.gov.cn（不设时不印二维码，告示上写明在此设置；
        /// 从不取请求的 Host，任何人都能伪造它）
        #[arg(long)]
        public_url: Option<String>,
        /// 报表读取所用的 PostgreSQL 只读副本（流复制备库，postgres://…）；写入仍在 --db 主库。
        /// 副本落后主库超过 1 秒时改读主库，报表从不比主库旧
        #[arg(long)]
        read_db: Option<String>,
    },
    /// 备份 SQLite 数据库（服务运行时也可以：得到某一时刻的一致副本）
    Backup {
        /// 备份文件（不能已存在）
        #[arg(long)]
        out: PathBuf,
    },
    /// 检查数据库：文件完整性、审计链、每笔记录与审计记录、合计与分录；有问题时逐条列出并以状态 1 退出
    Check {
        /// 要检查的 SQLite 文件（默认为 --db）
        file: Option<PathBuf>,
        /// 库外保存的审计链末端（cunji audit head 的输出）；默认读数据库文件旁的 <文件>.head
        #[arg(long)]
        head: Option<PathBuf>,
    },
    /// 用备份恢复 SQLite 数据库（先停止网页服务）；备份比现有数据库旧时须加 --force
    Restore {
        file: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// 生成合成数据（regions.csv、entries.csv、cadres.csv、grants.csv，以及资产台账 assets.csv、合同 contracts.csv、分期应收 installments.csv 和合同收款 receipts.csv），用于测试和基准
    Gen {
        /// 村数（默认 1000；用 --regions 时默认为区划表中的全部村，给出则为上限）
        #[arg(long)]
        villages: Option<usize>,
        /// 年度范围，如 2019-2024
        #[arg(long, default_value = "2019-2024")]
        years: String,
        #[arg(long, default_value_t = 8)]
        entries_per_month: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// 真实区划表（code,name 的 CSV，可为 .csv.gz），如全国 2023 年统计用区划代码
        #[arg(long)]
        regions: Option<PathBuf>,
    },
    /// 生成空白导入模板（.xlsx：中文表头、说明行、下拉列表）
    Template {
        /// regions | entries | statements | cadres | grants | stats | statement-book
        kind: String,
        #[arg(long)]
        out: PathBuf,
        /// 在模板中附上该地区各村的代码和名称（读取 --db 的区划）；收益及收益分配表为该地区每村一张表
        #[arg(long)]
        region: Option<String>,
        /// 收益及收益分配表的年度（默认上一年）
        #[arg(long)]
        year: Option<i32>,
    },
    /// 用户管理
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// 设置网页使用的当前政策
    Policy {
        #[command(subcommand)]
        action: PolicyAction,
    },
}

#[derive(Subcommand)]
pub enum AuditAction {
    /// 查明直接改库的情况后（未用备份恢复时），确认用户、政策、奖励方案等记录的现状：每处改动连同理由记入一条审计记录，此后不再拒绝对这些记录的操作
    Accept {
        /// 理由（至少 4 个字），如“经核实系误操作，已按会议纪要改回”
        #[arg(long)]
        reason: String,
    },
    /// 打印审计链末端（最后一条审计记录的编号和哈希），交县里在库外保存；cunji check --head 据此查出被删除的最后几条记录
    Head {
        /// 同时写入此文件
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// 重算审计哈希链，逐笔核对分录、冲销和扶持资金与写入它们的审计记录，核对合计；有问题时逐条列出并以状态 1 退出
    Verify,
    /// 导出全部审计记录（CSV，含哈希），交审计人员
    Export {
        #[arg(long)]
        out: PathBuf,
    },
    /// 离任审计材料：某人在任各年各村的收入、奖励、预警和审批记录，一个 JSON 文件
    Cadre {
        /// 人员编号
        person: String,
        /// 计算奖励所依据的政策文件（默认用网页的当前政策）
        #[arg(long)]
        policy: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum UserAction {
    /// 新增用户（密码从环境变量 CUNJI_PASSWORD 或标准输入读取）
    Add {
        username: String,
        /// county_admin | township_officer | village_accountant | auditor
        #[arg(long)]
        role: String,
        /// 管辖范围：乡镇代码（乡镇农经站）或村代码（村报账员）
        #[arg(long)]
        scope: Option<String>,
        /// 显示的姓名
        #[arg(long)]
        name: Option<String>,
    },
    /// 修改密码（新密码从环境变量 CUNJI_PASSWORD 或标准输入读取）
    Passwd { username: String },
    /// 列出用户
    List,
}

#[derive(Subcommand)]
pub enum PolicyAction {
    /// 检查政策文件并设为当前政策
    Set { file: PathBuf },
    /// 列出已保存的政策
    List,
}

/// The import kinds by their keys, as clap lists them in help and errors.
/// The kinds of file `cunji import` takes: each import kind, and `statement-book`.
fn import_kind_parser() -> clap::builder::PossibleValuesParser {
    let mut kinds: Vec<&'static str> = ImportKind::ALL.map(|k| k.key()).to_vec();
    kinds.push(STATEMENT_BOOK);
    clap::builder::PossibleValuesParser::new(kinds)
}

/// `cunji import statement-book FILE…` (SPEC §14).
pub const STATEMENT_BOOK: &str = "statement-book";

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Json,
    Table,
    Csv,
    Xlsx,
}
