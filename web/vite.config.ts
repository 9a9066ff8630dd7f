// Built by scripts/build.sh into <build>/web (HASYS_WEB_OUT), which hasys-manager-api serves with
// --web-root. Every text file also gets a .gz twin: the manager sends it to browsers that take it.
import { defineConfig, type Plugin } from 'vite';
import { gzipSync } from 'node:zlib';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const out = process.env.HASYS_WEB_OUT ?? resolve(__dirname, '../build/web');

function gzipTwins(): Plugin {
  return {
    name: 'hasys-gzip-twins',
    apply: 'build',
    closeBundle() {
      const walk = (dir: string) => {
        for (const name of readdirSync(dir)) {
          const p = join(dir, name);
          if (statSync(p).isDirectory()) walk(p);
          else if (/\.(js|css|html|svg|json)$/.test(name))
            writeFileSync(p + '.gz', gzipSync(readFileSync(p), { level: 9 }));
        }
      };
      walk(out);
    },
  };
}

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: out, emptyOutDir: true, target: 'es2022', sourcemap: false },
  plugins: [gzipTwins()],
});
