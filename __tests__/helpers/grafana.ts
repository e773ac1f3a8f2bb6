import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './processes';

/** deploy/grafana/'s dashboard and the PromQL it runs (panels' targets and the template variables' queries). */

export const DASHBOARD_FILE = path.join(ROOT, 'deploy', 'grafana', 'eas-bench-dashboard.json');

interface Target { expr?: string }
interface Panel { title?: string; targets?: Target[]; panels?: Panel[] }
interface Variable { name: string; type: string; query?: string | { query?: string } }
export interface Dashboard { uid: string; title: string; panels: Panel[]; templating?: { list: Variable[] } }

export function readDashboard(): Dashboard {
  return JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every query of the dashboard, with where it is: panel targets (rows' panels too) and query variables. */
export function dashboardQueries(dashboard: Dashboard = readDashboard()): { where: string; expr: string }[] {
  const fromPanels = (panels: Panel[]): { where: string; expr: string }[] => panels.flatMap((p) => [
    ...(p.targets ?? []).flatMap((t, i) => (t.expr ? [{ where: `${p.title ?? 'panel'} #${i}`, expr: t.expr }] : [])),
    ...fromPanels(p.panels ?? []),
  ]);
  const fromVariables = (dashboard.templating?.list ?? []).filter((v) => v.type === 'query').map((v) => ({
    where: `variable ${v.name}`,
    expr: typeof v.query === 'string' ? v.query : (v.query?.query ?? ''),
  }));
  return [...fromPanels(dashboard.panels), ...fromVariables];
}

/** A dashboard query as Prometheus itself takes it: Grafana's variables replaced (`$task` by a regex of task names). */
export function asPromQl(expr: string, task = '.*'): string {
  return expr.replace(/\$__rate_interval/g, '1m').replace(/\$task/g, task);
}
