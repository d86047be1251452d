<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AboutDialog</name>
    <message>
        <source>About HallClient</source>
        <translation>关于 HallClient</translation>
    </message>
    <message>
        <source>HallClient version {version}</source>
        <translation>HallClient 版本 {version}</translation>
    </message>
    <message>
        <source>Data directory: {path}</source>
        <translation>数据目录：{path}</translation>
    </message>
    <message>
        <source>Fonts and libraries included, and their licences:</source>
        <translation>随附的字体和程序库及其许可证：</translation>
    </message>
</context>
<context>
    <name>AccountPanel</name>
    <message>
        <source>Complete the customer record (F8)</source>
        <translation>补全客户信息 (F8)</translation>
    </message>
    <message>
        <source>Find and select an account first</source>
        <translation>请先查找并选定账户</translation>
    </message>
    <message>
        <source>Arrears {amount}</source>
        <translation>欠费 {amount}</translation>
    </message>
    <message>
        <source>No arrears</source>
        <translation>无欠费</translation>
    </message>
    <message>
        <source>Account {n}</source>
        <translation>户号 {n}</translation>
    </message>
    <message>
        <source>ID {id}   Phone {phone}</source>
        <translation>证件 {id}   电话 {phone}</translation>
    </message>
    <message>
        <source>No SMS notices</source>
        <translation>不发短信通知</translation>
    </message>
    <message>
        <source>SMS notices in English</source>
        <translation>短信通知：英文</translation>
    </message>
    <message>
        <source>SMS notices in Chinese</source>
        <translation>短信通知：中文</translation>
    </message>
    <message>
        <source>Customer manager: {n} {p}</source>
        <translation>客户经理：{n} {p}</translation>
    </message>
    <message>
        <source>Missing: {m}</source>
        <translation>待补充：{m}</translation>
    </message>
    <message>
        <source>Customer record complete</source>
        <translation>客户信息完整</translation>
    </message>
</context>
<context>
    <name>AttachedScans</name>
    <message>
        <source>Scan document (F10)</source>
        <translation>扫描证件 (F10)</translation>
    </message>
    <message>
        <source>Still to scan: {kinds}. Not required: the hall may take a paper copy instead.</source>
        <translation>尚需扫描：{kinds}。非必需：营业厅也可留存纸质复印件。</translation>
    </message>
    <message>
        <source>, </source>
        <translation>、</translation>
    </message>
    <message>
        <source>{kb} KB</source>
        <translation>{kb} KB</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
</context>
<context>
    <name>CardButton</name>
    <message>
        <source>Demo: lay card {n} of {count} on the reader</source>
        <translation>演示：将第 {n} 张证件（共 {count} 张）放到阅读器上</translation>
    </message>
</context>
<context>
    <name>CardPhotoPanel</name>
    <message>
        <source>The photo needs the vendor&apos;s decoding library: check the card itself</source>
        <translation>照片需厂商解码库，请核对证件原件</translation>
    </message>
    <message>
        <source>long-term</source>
        <translation>长期</translation>
    </message>
    <message>
        <source>Card read: compare the photo with the customer</source>
        <translation>已读卡：请核对照片与本人是否一致</translation>
    </message>
    <message>
        <source>Valid until: {d}</source>
        <translation>有效期至：{d}</translation>
    </message>
</context>
<context>
    <name>CounterWindow</name>
    <message>
        <source>Reprint (Ctrl+R)</source>
        <translation>补打回执 (Ctrl+R)</translation>
    </message>
    <message>
        <source>Next customer (F12)</source>
        <translation>下一位客户 (F12)</translation>
    </message>
    <message>
        <source>Ask the customer to rate (F11)</source>
        <translation>请客户评价 (F11)</translation>
    </message>
    <message>
        <source>A card was laid while the request is being signed or recorded: nothing was taken from it. Once the request is done, lay it again.</source>
        <translation>业务正在签名或受理中，刚放的证件未读入。请在本笔业务完成后重新放卡。</translation>
    </message>
    <message>
        <source>The card is read and its holder&apos;s accounts searched: compare its photo with the customer.</source>
        <translation>已读卡并按证件号查找账户：请核对照片与本人是否一致。</translation>
    </message>
    <message>
        <source>The card is read into the form: compare its photo with the customer.</source>
        <translation>已读取身份证并填入表单：请核对照片与本人是否一致。</translation>
    </message>
    <message>
        <source>Ask the customer for: {m}</source>
        <translation>请向客户询问：{m}</translation>
    </message>
    <message>
        <source>The customer is checking the request on their screen and signing it: nothing is recorded until they confirm.</source>
        <translation>客户正在其屏幕上核对业务并签名：客户确认前不会作任何记录。</translation>
    </message>
    <message>
        <source>The customer did not sign: the request cannot be accepted without their signature. Nothing was recorded; the form keeps what was entered.</source>
        <translation>客户未签名：没有客户签名不能受理本业务。未作任何记录，表单内容已保留。</translation>
    </message>
    <message>
        <source>The customer&apos;s screen is disconnected: turn this screen to the customer to finish.</source>
        <translation>客户屏已断开：请将本屏幕转向客户完成办理。</translation>
    </message>
    <message>
        <source>A supervisor must confirm: {w}</source>
        <translation>需主管确认：{w}</translation>
    </message>
    <message>
        <source>Accepted, receipt {n}</source>
        <translation>已受理，回执 {n}</translation>
    </message>
    <message>
        <source>The offline window is {h} hours for a day: the waiting requests are sent now.</source>
        <translation>离线期限已延长为 {h} 小时（一天内有效）：等待的业务随即上传。</translation>
    </message>
    <message>
        <source>Receipt {n} is not kept on this terminal.</source>
        <translation>本终端未保存回执 {n}。</translation>
    </message>
    <message>
        <source>Receipt {n} is recorded but could not be drawn: {e}. Print it again with Ctrl+R.</source>
        <translation>回执 {n} 已记录，但无法生成：{e}。请用 Ctrl+R 补打。</translation>
    </message>
</context>
<context>
    <name>FormHost</name>
    <message>
        <source>Open the customer&apos;s account, then choose the business (F3-F9). A new connection (F9) needs no account.</source>
        <translation>先打开客户的户号，再选择业务（F3-F9）。新装 (F9) 无需户号。</translation>
    </message>
</context>
<context>
    <name>FormView</name>
    <message>
        <source> (optional)</source>
        <translation>（选填）</translation>
    </message>
    <message>
        <source>Submit (Ctrl+Enter)</source>
        <translation>提交受理 (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Settled at this visit (one-stop)</source>
        <translation>本次办结（一站妥）</translation>
    </message>
    <message>
        <source>now: {value}</source>
        <translation>现为：{value}</translation>
    </message>
    <message>
        <source>nothing on record</source>
        <translation>未登记</translation>
    </message>
</context>
<context>
    <name>HistoryPanel</name>
    <message>
        <source>Operations at this counter</source>
        <translation>本柜台办理记录</translation>
    </message>
    <message>
        <source>accepted</source>
        <translation>已受理</translation>
    </message>
    <message>
        <source>completed</source>
        <translation>已办结</translation>
    </message>
    <message>
        <source>conflict</source>
        <translation>冲突</translation>
    </message>
    <message>
        <source>rejected</source>
        <translation>退回</translation>
    </message>
    <message>
        <source>SMS “{n}” waiting to be sent</source>
        <translation>短信“{n}”待发送</translation>
    </message>
    <message>
        <source>SMS “{n}” sent {t}</source>
        <translation>短信“{n}”已发送 {t}</translation>
    </message>
</context>
<context>
    <name>KpiDashboard</name>
    <message>
        <source>Period</source>
        <translation>统计期间</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>近 7 天</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>近 30 天</translation>
    </message>
    <message>
        <source>This month</source>
        <translation>本月</translation>
    </message>
    <message>
        <source>Group by</source>
        <translation>分组</translation>
    </message>
    <message>
        <source>Refresh (F5)</source>
        <translation>刷新 (F5)</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Export PDF…</source>
        <translation>导出 PDF…</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Service figures</source>
        <translation>服务指标</translation>
    </message>
    <message>
        <source>Ratings and call-backs</source>
        <translation>评价与回访</translation>
    </message>
    <message>
        <source>Waiting and handling by hour</source>
        <translation>分时段等候与办理时长</translation>
    </message>
    <message>
        <source>Service KPIs: {hall}</source>
        <translation>服务指标：{hall}</translation>
    </message>
    <message>
        <source>Business type</source>
        <translation>业务类型</translation>
    </message>
    <message>
        <source>Clerk</source>
        <translation>受理人</translation>
    </message>
    <message>
        <source>Hall</source>
        <translation>营业厅</translation>
    </message>
    <message>
        <source>Operations</source>
        <translation>业务量</translation>
    </message>
    <message>
        <source>Ratings</source>
        <translation>评价数</translation>
    </message>
    <message>
        <source>Satisfaction rate</source>
        <translation>满意率</translation>
    </message>
    <message>
        <source>One-stop ratio</source>
        <translation>一站妥率</translation>
    </message>
    <message>
        <source>Avg handling (min)</source>
        <translation>平均办理时长（分钟）</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>超期</translation>
    </message>
    <message>
        <source>Completeness rate</source>
        <translation>信息完整率</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>合计</translation>
    </message>
    <message>
        <source>Very satisfied</source>
        <translation>非常满意</translation>
    </message>
    <message>
        <source>Satisfied</source>
        <translation>满意</translation>
    </message>
    <message>
        <source>Basically satisfied</source>
        <translation>基本满意</translation>
    </message>
    <message>
        <source>Unrated for 7 days</source>
        <translation>超7天未评价</translation>
    </message>
    <message>
        <source>Dissatisfied</source>
        <translation>不满意</translation>
    </message>
    <message>
        <source>Very dissatisfied</source>
        <translation>非常不满意</translation>
    </message>
    <message>
        <source>Call-backs opened</source>
        <translation>回访工单数</translation>
    </message>
    <message>
        <source>Call-back rate</source>
        <translation>回访率</translation>
    </message>
    <message>
        <source>Call-backs due</source>
        <translation>期内到期回访</translation>
    </message>
    <message>
        <source>Called back in time</source>
        <translation>按时回访率</translation>
    </message>
    <message>
        <source>Hour</source>
        <translation>时段</translation>
    </message>
    <message>
        <source>Customers who waited</source>
        <translation>排队客户数</translation>
    </message>
    <message>
        <source>Avg wait (min)</source>
        <translation>平均等候（分钟）</translation>
    </message>
    <message>
        <source>Median wait (min)</source>
        <translation>等候中位数（分钟）</translation>
    </message>
    <message>
        <source>90% waited at most (min)</source>
        <translation>90% 客户等候不超过（分钟）</translation>
    </message>
    <message>
        <source>Requests timed</source>
        <translation>计时业务笔数</translation>
    </message>
    <message>
        <source>Whole day</source>
        <translation>全天</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>The server cannot be reached; the dashboard needs it. Try again with Refresh (F5).</source>
        <translation>无法连接服务器，指标看板需要服务器。请按“刷新 (F5)”重试。</translation>
    </message>
    <message>
        <source>target {t}</source>
        <translation>目标 {t}</translation>
    </message>
    <message>
        <source>{m} min</source>
        <translation>{m} 分钟</translation>
    </message>
    <message>
        <source>Average handling time</source>
        <translation>平均办理时长</translation>
    </message>
    <message>
        <source>{n} operations</source>
        <translation>共 {n} 笔业务</translation>
    </message>
    <message>
        <source>Very satisfied, satisfied and basically satisfied, of all ratings. A transaction left unrated for 7 days counts as basically satisfied: {n} in this period.</source>
        <translation>非常满意、满意、基本满意占全部评价的比例；7天内未评价的业务按基本满意计入：本期 {n} 笔。</translation>
    </message>
    <message>
        <source>Overdue work items</source>
        <translation>超期工单</translation>
    </message>
    <message>
        <source>{n} opened</source>
        <translation>已开 {n} 项</translation>
    </message>
    <message>
        <source>Call-backs opened for the dissatisfied and very dissatisfied ratings of the period&apos;s transactions, of those ratings; target {t}.</source>
        <translation>本期业务的不满意、非常不满意评价中已开回访工单的比例；{t}。</translation>
    </message>
    <message>
        <source>Call-backs whose deadline falls in the period, done by their deadline; {t}.</source>
        <translation>期内到期的回访工单中按期办结的比例；{t}。</translation>
    </message>
    <message>
        <source>Period: {days} · Grouped by: {grouping} · Made: {made}</source>
        <translation>统计期间：{days} · 分组：{grouping} · 生成时间：{made}</translation>
    </message>
    <message>
        <source>Export CSV</source>
        <translation>导出 CSV</translation>
    </message>
    <message>
        <source>Items due in period</source>
        <translation>期内到期工单</translation>
    </message>
    <message>
        <source>The figures could not be loaded: an unexpected error, written to the log.</source>
        <translation>数据未能加载：发生意外错误，已记入日志。</translation>
    </message>
    <message>
        <source>Target met</source>
        <translation>达标</translation>
    </message>
    <message>
        <source>Target not met</source>
        <translation>未达标</translation>
    </message>
    <message>
        <source>of {n} due in the period</source>
        <translation>期内到期共 {n} 项</translation>
    </message>
    <message>
        <source>Work items whose deadline falls in the period: overdue if done after it, or still open once it has passed. Items due later are not counted here; the counter&apos;s list of the hall&apos;s work items shows every open one.</source>
        <translation>统计期间内到期的工单：晚于时限办结或过了时限仍未办结的，计为超期。到期日在统计期间之后的工单不计入此处；柜台的“本营业厅工单”列表列出全部未办结工单。</translation>
    </message>
    <message>
        <source>below target</source>
        <translation>未达标</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Export PDF</source>
        <translation>导出 PDF</translation>
    </message>
    <message>
        <source>PDF files (*.pdf)</source>
        <translation>PDF 文件 (*.pdf)</translation>
    </message>
    <message>
        <source>Saving {path}…</source>
        <translation>正在保存 {path}…</translation>
    </message>
    <message>
        <source>Saved {path}</source>
        <translation>已保存 {path}</translation>
    </message>
    <message>
        <source>an unexpected error, written to the log</source>
        <translation>发生意外错误，已记入日志</translation>
    </message>
    <message>
        <source>{path} could not be saved: {reason}</source>
        <translation>{path} 无法保存：{reason}</translation>
    </message>
</context>
<context>
    <name>LockDialog</name>
    <message>
        <source>HallClient is locked</source>
        <translation>HallClient 已锁定</translation>
    </message>
    <message>
        <source>Locked: {clerk}, type your password</source>
        <translation>已锁定：{clerk}，请输入密码</translation>
    </message>
    <message>
        <source>Unlock</source>
        <translation>解锁</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>退出登录</translation>
    </message>
</context>
<context>
    <name>LoginWindow</name>
    <message>
        <source>HallClient login</source>
        <translation>HallClient 登录</translation>
    </message>
    <message>
        <source>Service hall counter</source>
        <translation>供电营业厅柜台</translation>
    </message>
    <message>
        <source>Hall / terminal: {hall} / {terminal}
Server: {server}</source>
        <translation>营业厅 / 终端：{hall} / {terminal}
服务器：{server}</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>服务器地址</translation>
    </message>
    <message>
        <source>Hall id</source>
        <translation>营业厅编号</translation>
    </message>
    <message>
        <source>Terminal id</source>
        <translation>终端编号</translation>
    </message>
    <message>
        <source>Clerk id</source>
        <translation>工号</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>New password</source>
        <translation>新密码</translation>
    </message>
    <message>
        <source>New password again</source>
        <translation>再输入一次新密码</translation>
    </message>
    <message>
        <source>Set the new password and log in</source>
        <translation>设置新密码并登录</translation>
    </message>
    <message>
        <source>Log in</source>
        <translation>登录</translation>
    </message>
    <message>
        <source>Change (supervisor)…</source>
        <translation>更改（主管）…</translation>
    </message>
    <message>
        <source>A supervisor logs in to keep the new settings.</source>
        <translation>请主管登录以保存新的设置。</translation>
    </message>
    <message>
        <source>Fill in every field</source>
        <translation>请填写所有项目</translation>
    </message>
    <message>
        <source>Type the same new password twice</source>
        <translation>两次输入的新密码要相同</translation>
    </message>
    <message>
        <source>Logging in…</source>
        <translation>正在登录…</translation>
    </message>
    <message>
        <source>This was a one-time password. Type it again, then your own new password twice (at least 8 characters, letters and digits).</source>
        <translation>这是一次性密码。请再输入一次，然后两次输入您自己的新密码（至少 8 个字符，包含字母和数字）。</translation>
    </message>
    <message>
        <source>Server unreachable: logged in offline</source>
        <translation>服务器不可达，已离线登录</translation>
    </message>
</context>
<context>
    <name>NetworkSwitch</name>
    <message>
        <source>Demo: restore the network</source>
        <translation>演示：恢复网络</translation>
    </message>
    <message>
        <source>Demo: cut the network</source>
        <translation>演示：断开网络</translation>
    </message>
</context>
<context>
    <name>PasswordPrompt</name>
    <message>
        <source>Not accepted: the id or password is wrong, or too many wrong passwords have locked it for a while. Check them and try again.</source>
        <translation>未通过：工号或密码不对，或密码错误次数过多、暂被锁定。请核对后重试。</translation>
    </message>
    <message>
        <source>The password could not be checked on this terminal. Try again; if it fails again, call IT (the log file says what failed).</source>
        <translation>本终端暂时无法核验密码。请重试；仍不行请联系信息部门（日志文件记有出错之处）。</translation>
    </message>
</context>
<context>
    <name>ReceiptHistoryDialog</name>
    <message>
        <source>Receipt history</source>
        <translation>回执记录</translation>
    </message>
    <message>
        <source>Receipt</source>
        <translation>回执号</translation>
    </message>
    <message>
        <source>Issued</source>
        <translation>开具时间</translation>
    </message>
    <message>
        <source>Business</source>
        <translation>业务</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>户号</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Copies</source>
        <translation>补打次数</translation>
    </message>
    <message>
        <source>Reprint (Ctrl+R)</source>
        <translation>补打回执 (Ctrl+R)</translation>
    </message>
</context>
<context>
    <name>ReceiptPreview</name>
    <message>
        <source>Receipt preview {n}</source>
        <translation>回执预览 {n}</translation>
    </message>
    <message>
        <source>Printer:</source>
        <translation>打印机：</translation>
    </message>
    <message>
        <source>Language:</source>
        <translation>语言：</translation>
    </message>
    <message>
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <source>English</source>
        <translation>英文</translation>
    </message>
    <message>
        <source>Chinese and English</source>
        <translation>中英双语</translation>
    </message>
    <message>
        <source>Paper:</source>
        <translation>纸张：</translation>
    </message>
    <message>
        <source>80 mm roll</source>
        <translation>80 毫米卷纸</translation>
    </message>
    <message>
        <source>A4</source>
        <translation>A4 纸</translation>
    </message>
    <message>
        <source>Print (Ctrl+P)</source>
        <translation>打印 (Ctrl+P)</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>The printers could not be looked up: {e}.</source>
        <translation>无法查询打印机：{e}。</translation>
    </message>
    <message>
        <source>No printer here; add one in the system</source>
        <translation>本机没有打印机，请在系统中添加</translation>
    </message>
    <message>
        <source>Drawing the receipt…</source>
        <translation>正在生成回执…</translation>
    </message>
    <message>
        <source>The receipt could not be drawn in that language or on that paper: {e}</source>
        <translation>回执无法以该语言或纸张生成：{e}</translation>
    </message>
    <message>
        <source>Printing…</source>
        <translation>正在打印…</translation>
    </message>
    <message>
        <source>Sent to {p}</source>
        <translation>已发送到 {p}</translation>
    </message>
</context>
<context>
    <name>ScanDialog</name>
    <message>
        <source>camera picture</source>
        <translation>高拍仪照片</translation>
    </message>
    <message>
        <source>Scan document</source>
        <translation>扫描证件</translation>
    </message>
    <message>
        <source>Take picture</source>
        <translation>拍摄</translation>
    </message>
    <message>
        <source>Import from file…</source>
        <translation>从文件导入…</translation>
    </message>
    <message>
        <source>Trim border</source>
        <translation>裁去边框</translation>
    </message>
    <message>
        <source>Whole image</source>
        <translation>整张图片</translation>
    </message>
    <message>
        <source>Attach</source>
        <translation>附加</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Document:</source>
        <translation>材料类型：</translation>
    </message>
    <message>
        <source>Drag a rectangle over the document to keep only it.</source>
        <translation>用鼠标框选证件，只保留框内部分。</translation>
    </message>
    <message>
        <source>Import scan</source>
        <translation>导入扫描件</translation>
    </message>
    <message>
        <source>Images (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp)</source>
        <translation>图片 (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp)</translation>
    </message>
</context>
<context>
    <name>SearchPanel</name>
    <message>
        <source>account, ID number, phone, name or address (Ctrl+F)</source>
        <translation>户号、证件号、电话、姓名或地址 (Ctrl+F)</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>户号</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>户主</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>ID (last 4)</source>
        <translation>证件尾号</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>用电地址</translation>
    </message>
    <message>
        <source>No account matches</source>
        <translation>没有相符的账户</translation>
    </message>
    <message>
        <source>1 result</source>
        <translation>1 个结果</translation>
    </message>
    <message>
        <source>{n} results</source>
        <translation>{n} 个结果</translation>
    </message>
    <message>
        <source>search index being built: names and addresses may be incomplete</source>
        <translation>搜索索引建立中：姓名和地址的结果可能不全</translation>
    </message>
</context>
<context>
    <name>SupervisorDialog</name>
    <message>
        <source>Supervisor sign-off</source>
        <translation>主管现场确认</translation>
    </message>
    <message>
        <source>Supervisor id</source>
        <translation>主管工号</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <source>Sign off</source>
        <translation>确认</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>户号</translation>
    </message>
    <message>
        <source>Holder</source>
        <translation>户主</translation>
    </message>
    <message>
        <source>Arrears</source>
        <translation>欠费</translation>
    </message>
</context>
<context>
    <name>SyncStatusView</name>
    <message>
        <source>● online</source>
        <translation>● 在线</translation>
    </message>
    <message>
        <source>● offline</source>
        <translation>● 离线</translation>
    </message>
    <message>
        <source>never</source>
        <translation>从未</translation>
    </message>
    <message>
        <source>{s}   pending {p}   conflicts {c}   last sync {t}</source>
        <translation>{s}&#x3000;待发 {p} 笔&#x3000;冲突/退回 {c} 件&#x3000;上次同步 {t}</translation>
    </message>
    <message>
        <source>{n} waiting longer than the offline window: a supervisor must extend it (Ctrl+Shift+W)</source>
        <translation>{n} 笔超过离线期限：须主管延长期限（Ctrl+Shift+W）</translation>
    </message>
    <message>
        <source>this PC&apos;s clock is {m:+d} min off the server&apos;s: correct it</source>
        <translation>本机时钟与服务器相差 {m:+d} 分钟，请校正</translation>
    </message>
    <message>
        <source>Loading accounts: %v of %m</source>
        <translation>正在载入账户：%v / %m</translation>
    </message>
    <message>
        <source>Loading accounts: {n}</source>
        <translation>正在载入账户：{n}</translation>
    </message>
</context>
<context>
    <name>TasksPanel</name>
    <message>
        <source>Tasks (conflicts and rejections)</source>
        <translation>待处理任务（冲突与退回）</translation>
    </message>
    <message>
        <source>Redo on current details</source>
        <translation>按最新信息重办</translation>
    </message>
    <message>
        <source>Cancel with a reason…</source>
        <translation>取消并注明原因…</translation>
    </message>
    <message>
        <source>[conflict]</source>
        <translation>【冲突】</translation>
    </message>
    <message>
        <source>[rejected]</source>
        <translation>【退回】</translation>
    </message>
    <message>
        <source>{kind} {b} account {no} {name} {phone}: {said}</source>
        <translation>{kind} {b} 户号 {no} {name} {phone}：{said}</translation>
    </message>
    <message>
        <source>Reason for cancelling:</source>
        <translation>取消原因：</translation>
    </message>
</context>
<context>
    <name>TicketBar</name>
    <message>
        <source>Ticket (F2)</source>
        <translation>排队号 (F2)</translation>
    </message>
    <message>
        <source>Type or scan the queue ticket</source>
        <translation>输入或扫描排队号</translation>
    </message>
    <message>
        <source>Call next</source>
        <translation>叫号</translation>
    </message>
    <message>
        <source>Nobody is waiting in the queue.</source>
        <translation>目前没有排队等候的客户。</translation>
    </message>
    <message>
        <source>Ticket {n} was called to this counter; this customer keeps the ticket typed, {t}.</source>
        <translation>已将 {n} 号叫到本窗口；本位客户仍使用已输入的排队号 {t}。</translation>
    </message>
    <message>
        <source>Ticket {n} called to this counter.</source>
        <translation>已将 {n} 号叫到本窗口。</translation>
    </message>
    <message>
        <source>Ticket {n} is taken for this customer.</source>
        <translation>已登记本位客户的排队号 {n}。</translation>
    </message>
    <message>
        <source>Ticket issued at {i}, called at {c}</source>
        <translation>{i} 取号，{c} 叫号</translation>
    </message>
</context>
<context>
    <name>WorkItemsPanel</name>
    <message>
        <source>Work items of the hall (time left)</source>
        <translation>本营业厅工单（剩余时限）</translation>
    </message>
    <message>
        <source>No open work items at this hall.</source>
        <translation>本营业厅暂无未办结工单。</translation>
    </message>
    <message>
        <source>Step done</source>
        <translation>本步完成</translation>
    </message>
    <message>
        <source>Not updated: {e}</source>
        <translation>未能更新：{e}</translation>
    </message>
    <message>
        <source>an unexpected error, written to the log</source>
        <translation>发生意外错误，已记入日志</translation>
    </message>
    <message>
        <source>Work item due in {t}: {b} {step}, account {no}</source>
        <translation>工单将在 {t} 后到期：{b} {step}，户号 {no}</translation>
    </message>
    <message>
        <source>{d}d {h}h</source>
        <translation>{d}天{h}小时</translation>
    </message>
    <message>
        <source>{h}h {m}m</source>
        <translation>{h}小时{m}分</translation>
    </message>
    <message>
        <source>Overdue by {t}</source>
        <translation>已超期 {t}</translation>
    </message>
    <message>
        <source>{left} · due {due} · {business}: {step} · account {no}</source>
        <translation>{left} · 时限 {due} · {business}：{step} · 户号 {no}</translation>
    </message>
    <message>
        <source>Updated at {t}</source>
        <translation>更新于 {t}</translation>
    </message>
    <message>
        <source>The step was not marked done: {e}</source>
        <translation>本步未能标记完成：{e}</translation>
    </message>
    <message>
        <source>{t} left</source>
        <translation>剩余 {t}</translation>
    </message>
</context>
</TS>
