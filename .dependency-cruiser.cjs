/**
 * The layering rules of Retain (docs/architecture.md), checked by `npm run lint`:
 *
 *   cli, server  →  modules  →  kit  →  analytics, storage  →  shared
 *
 * Tests may reach anything except that production code never imports a test helper.
 */
const TEST = '(^test/|\\.test\\.ts$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: the files cannot be understood, tested or loaded one without the other.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'modules-not-to-transports',
      severity: 'error',
      comment:
        'Modules are transport-neutral: they never import src/server or src/cli (HTTP and CLI helpers live in src/kit).',
      from: { path: '^src/modules/', pathNot: TEST },
      to: { path: '^src/(server|cli)/' },
    },
    {
      name: 'kit-below-modules',
      severity: 'error',
      comment: 'src/kit is what every module builds on: it never imports a module, the server or the CLI.',
      from: { path: '^src/kit/' },
      to: { path: '^src/(modules|server|cli)/' },
    },
    {
      name: 'analytics-pure',
      severity: 'error',
      comment:
        'src/analytics is pure math: no storage, no modules, no transports, no kit, no files or network.',
      from: { path: '^src/analytics/', pathNot: TEST },
      to: {
        pathNot: '^src/(analytics|shared)/',
        dependencyTypesNot: [
          'core',
          'npm',
          'npm-dev',
          'npm-optional',
          'npm-peer',
          'npm-bundled',
          'npm-no-pkg',
        ],
      },
    },
    {
      name: 'analytics-no-io',
      severity: 'error',
      comment: 'src/analytics reads no files and opens no sockets or processes.',
      from: { path: '^src/analytics/', pathNot: TEST },
      to: {
        dependencyTypes: ['core'],
        path: '^(node:)?(fs|fs/promises|zlib|stream|stream/promises|child_process|net|http|https|worker_threads|os)$',
      },
    },
    {
      name: 'storage-below-domain',
      severity: 'error',
      comment: 'The storage port and adapters know nothing of modules, kit, transports or analytics.',
      from: { path: '^src/storage/', pathNot: TEST },
      to: { path: '^src/(modules|kit|server|cli|analytics)/' },
    },
    {
      name: 'shared-is-ground',
      severity: 'error',
      comment: 'src/shared is the ground floor: it imports nothing else of Retain.',
      from: { path: '^src/shared/', pathNot: TEST },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'no-test-helpers-in-production',
      severity: 'error',
      comment: 'Test helpers live in test/ and never ship in the build.',
      from: { path: '^src/', pathNot: TEST },
      to: { path: TEST },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
