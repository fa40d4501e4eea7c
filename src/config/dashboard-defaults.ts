/**
 * The defaults the dashboard's form starts from (GET /api/options `defaults`): filled from the settings table by
 * `dashboardDefaults()` (settings.ts). An import-free type module, so the browser code can name it (server/api-types.ts).
 */
export interface DashboardDefaults {
  n: number;
  attributes: string[];
  policy: string;
  mode: string;
  overflow: string;
  concurrency: number;
  provider: string;
  observer: string;
}
