import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { allTopics, topicConfig } from '@papka/contracts';

/**
 * The deployment policy, checked over what `kubectl apply -k k8s` would apply (the
 * `kubectl kustomize k8s` output where kubectl exists, the files listed by
 * k8s/kustomization.yaml otherwise, and both where it can), k8s/optional/kafka-topics.yaml and
 * docker-compose.yml. The per-Deployment checks iterate over every Deployment found: a new
 * service (finance-sync) is covered without touching this file.
 */

const REPO = path.resolve(__dirname, '..', '..');
const K8S = path.join(REPO, 'k8s');

/** A Deployment may opt out of autoscaling (a singleton, e.g. a scheduler) with this annotation, saying why. */
const NO_AUTOSCALING = 'papka.io/autoscaling';
/** The gateway's pods: the only pods the services accept traffic from. */
const GATEWAY_COMPONENT = 'api-gateway';
/** Ports with this name (Prometheus scraping) may be reachable from outside the gateway. */
const METRICS_PORT = 'metrics';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
type Obj = Record<string, any>;

const loadAll = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(d.errors.map((e) => e.message).join('; '));
      return d.toJS() as Obj | null;
    })
    .filter((d): d is Obj => !!d && typeof d === 'object');

function kubectlAvailable(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

/** What kustomize renders: namespace, labels and images applied. */
const renderWithKubectl = (): Obj[] => loadAll(execFileSync('kubectl', ['kustomize', K8S], { encoding: 'utf8', timeout: 30_000 }));

/** The files kustomization.yaml lists, parsed as they are (namespace from the kustomization). */
function renderFromFiles(): Obj[] {
  const kustomization = parse(readFileSync(path.join(K8S, 'kustomization.yaml'), 'utf8')) as Obj;
  const resources = (kustomization.resources ?? []) as string[];
  return resources.flatMap((r) => {
    const file = path.join(K8S, r);
    if (!statSync(file).isFile()) throw new Error(`kustomization resource ${r} is not a file: render it with kubectl kustomize`);
    return loadAll(readFileSync(file, 'utf8')).map((o) =>
      o.kind === 'Namespace' || o.metadata?.namespace ? o : { ...o, metadata: { ...o.metadata, namespace: kustomization.namespace } },
    );
  });
}

/** Does a label selector (matchLabels + matchExpressions) select these labels? An empty selector selects all. */
function selects(selector: Obj | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries((selector.matchLabels ?? {}) as Record<string, string>)) if (labels[k] !== v) return false;
  for (const e of (selector.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[]) {
    const has = e.key in labels;
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    const ok = { In: inValues, NotIn: !inValues, Exists: has, DoesNotExist: !has }[e.operator];
    if (!ok) return false;
  }
  return true;
}

const podLabels = (d: Obj): Record<string, string> => d.spec?.template?.metadata?.labels ?? {};
const containersOf = (d: Obj): Obj[] => d.spec?.template?.spec?.containers ?? [];
const initContainersOf = (d: Obj): Obj[] => d.spec?.template?.spec?.initContainers ?? [];
const sameNamespace = (a: Obj, b: Obj) => (a.metadata?.namespace ?? 'default') === (b.metadata?.namespace ?? 'default');
const isGateway = (d: Obj) => podLabels(d)['app.kubernetes.io/component'] === GATEWAY_COMPONENT;

/** Does a (Service or NetworkPolicy) port, by number or name, refer to this container port? */
const refersTo = (ref: unknown, port: Obj) => ref === port.name || Number(ref) === port.containerPort;

/** Everything a Deployment breaks of the per-Deployment policy, as readable lines. */
function deploymentFindings(d: Obj, all: Obj[]): string[] {
  const name = d.metadata?.name as string;
  const findings: string[] = [];
  const pod = d.spec?.template?.spec ?? {};
  const containers = containersOf(d);
  if (!containers.length) findings.push('has no containers');
  for (const c of containers) {
    const ports = (c.ports ?? []) as Obj[];
    for (const [probe, wanted] of [
      ['livenessProbe', '/health/live'],
      ['readinessProbe', '/health/ready'],
    ] as const) {
      const get = c[probe]?.httpGet as Obj | undefined;
      if (get?.path !== wanted) findings.push(`container ${c.name}: ${probe} is not an httpGet on ${wanted}`);
      else if (!ports.some((p) => refersTo(get.port, p))) findings.push(`container ${c.name}: ${probe} port ${get.port} is not a container port`);
    }
    if (c.startupProbe && !String(c.startupProbe.httpGet?.path ?? '').startsWith('/health/')) {
      findings.push(`container ${c.name}: startupProbe is not an httpGet on /health/*`);
    }
  }
  for (const c of [...initContainersOf(d), ...containers]) {
    for (const kind of ['requests', 'limits'] as const) {
      for (const resource of ['cpu', 'memory'] as const) {
        if (!c.resources?.[kind]?.[resource]) findings.push(`container ${c.name}: no resources.${kind}.${resource}`);
      }
    }
    const nonRoot = c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
    if (nonRoot !== true) findings.push(`container ${c.name}: runAsNonRoot is not true (pod or container securityContext)`);
    // readOnlyRootFilesystem exists on the container's securityContext only.
    if (c.securityContext?.readOnlyRootFilesystem !== true) findings.push(`container ${c.name}: readOnlyRootFilesystem is not true`);
  }
  const pdbs = all.filter((o) => o.kind === 'PodDisruptionBudget' && sameNamespace(o, d) && selects(o.spec?.selector, podLabels(d)));
  if (pdbs.length !== 1) findings.push(`${pdbs.length} PodDisruptionBudgets select its pods (want exactly 1)`);

  const hpas = all.filter(
    (o) => o.kind === 'HorizontalPodAutoscaler' && sameNamespace(o, d) && o.spec?.scaleTargetRef?.kind === 'Deployment' && o.spec?.scaleTargetRef?.name === name,
  );
  const optOut = d.metadata?.annotations?.[NO_AUTOSCALING] as string | undefined;
  if (optOut !== undefined) {
    if (hpas.length) findings.push(`is annotated ${NO_AUTOSCALING} but has a HorizontalPodAutoscaler`);
    if (!/^none: .{10,}/.test(optOut)) findings.push(`${NO_AUTOSCALING} must read "none: <why it must not scale>"`);
  } else {
    if (hpas.length !== 1) findings.push(`${hpas.length} HorizontalPodAutoscalers target it (want exactly 1, or the ${NO_AUTOSCALING} annotation)`);
    const hpa = hpas[0];
    // With a PDB of maxUnavailable 1, a single replica would go down on every drain.
    if (hpa && !(hpa.spec?.minReplicas >= 2)) findings.push('its HorizontalPodAutoscaler keeps fewer than 2 replicas');
    if (hpa && !(hpa.spec?.maxReplicas > hpa.spec?.minReplicas)) findings.push('its HorizontalPodAutoscaler cannot scale (maxReplicas <= minReplicas)');
    // A fixed count would reset the HPA's on every apply.
    if (d.spec?.replicas !== undefined) findings.push('sets spec.replicas although an HPA owns the count');
  }
  return findings;
}

/**
 * What breaks "only the gateway reaches the services" for one non-gateway Deployment: some
 * NetworkPolicy must select its pods for Ingress, every ingress rule of those policies must let in
 * only the gateway's pods (of the same namespace), on container ports, and the gateway must get in
 * on each port its Service exposes. Ports named `metrics` are exempt (scraping).
 */
function networkFindings(d: Obj, all: Obj[]): string[] {
  const findings: string[] = [];
  const gateways = all.filter((o) => o.kind === 'Deployment' && isGateway(o) && sameNamespace(o, d));
  if (!gateways.length) return ['no gateway Deployment (app.kubernetes.io/component: api-gateway) in its namespace'];
  const ports = containersOf(d).flatMap((c) => (c.ports ?? []) as Obj[]);
  const policies = all.filter(
    (o) =>
      o.kind === 'NetworkPolicy' &&
      sameNamespace(o, d) &&
      selects(o.spec?.podSelector, podLabels(d)) &&
      ((o.spec?.policyTypes as string[] | undefined) ?? ['Ingress']).includes('Ingress'),
  );
  if (!policies.length) return ['no NetworkPolicy restricts ingress to its pods'];
  const allowed = new Set<Obj>(); // container ports the gateway may reach
  for (const policy of policies) {
    for (const rule of (policy.spec?.ingress ?? []) as Obj[]) {
      const rulePorts = rule.ports as Obj[] | undefined;
      const targets = rulePorts ? ports.filter((p) => rulePorts.some((rp) => refersTo(rp.port, p))) : ports;
      if (!rulePorts) findings.push(`NetworkPolicy ${policy.metadata?.name}: a rule without ports opens every port`);
      // A rule on ports this pod does not have opens nothing here; one on `metrics` only is for scraping.
      if (!targets.length || targets.every((p) => p.name === METRICS_PORT)) continue;
      const from = rule.from as Obj[] | undefined;
      if (!from?.length) {
        findings.push(`NetworkPolicy ${policy.metadata?.name}: a rule without "from" lets every pod in`);
        continue;
      }
      for (const peer of from) {
        const onlyGateway =
          peer.podSelector &&
          !peer.namespaceSelector &&
          !peer.ipBlock &&
          Object.keys(peer.podSelector).length > 0 &&
          all.filter((o) => o.kind === 'Deployment' && sameNamespace(o, d) && selects(peer.podSelector, podLabels(o))).every(isGateway);
        if (!onlyGateway) findings.push(`NetworkPolicy ${policy.metadata?.name}: a peer other than the gateway's pods: ${JSON.stringify(peer)}`);
        else if (gateways.some((g) => selects(peer.podSelector, podLabels(g)))) for (const p of targets) allowed.add(p);
      }
    }
  }
  const services = all.filter((o) => o.kind === 'Service' && sameNamespace(o, d) && selects({ matchLabels: o.spec?.selector ?? {} }, podLabels(d)));
  for (const svc of services) {
    for (const sp of (svc.spec?.ports ?? []) as Obj[]) {
      const target = ports.find((p) => refersTo(sp.targetPort ?? sp.port, p));
      if (target && target.name !== METRICS_PORT && !allowed.has(target)) findings.push(`the gateway may not reach port ${target.name ?? target.containerPort} of Service ${svc.metadata?.name}`);
    }
  }
  return findings;
}

/** The Ingress must route to the gateway's public port only (its /metrics, if any, stays inside). */
function publicRouteFindings(all: Obj[]): string[] {
  const findings: string[] = [];
  const ingresses = all.filter((o) => o.kind === 'Ingress');
  if (!ingresses.length) findings.push('no Ingress');
  for (const ing of ingresses) {
    const backends = [ing.spec?.defaultBackend, ...((ing.spec?.rules ?? []) as Obj[]).flatMap((r) => ((r.http?.paths ?? []) as Obj[]).map((p) => p.backend))].filter(Boolean) as Obj[];
    for (const b of backends) {
      const svc = all.find((o) => o.kind === 'Service' && sameNamespace(o, ing) && o.metadata?.name === b.service?.name);
      const gateway = all.find((o) => o.kind === 'Deployment' && isGateway(o) && sameNamespace(o, ing));
      if (!svc || !gateway || !selects({ matchLabels: svc.spec?.selector ?? {} }, podLabels(gateway))) {
        findings.push(`Ingress ${ing.metadata?.name} routes to ${b.service?.name}, which is not the gateway's Service`);
        continue;
      }
      const ports = (svc.spec?.ports ?? []) as Obj[];
      if (ports.length !== 1 || (ports[0]!.targetPort ?? ports[0]!.port) !== 'http') {
        findings.push(`Service ${svc.metadata?.name} exposes more than the public port "http": ${JSON.stringify(ports)}`);
      }
      const port = ports.find((p) => (b.service.port?.name ? p.name === b.service.port.name : p.port === b.service.port?.number));
      if (!port) findings.push(`Ingress ${ing.metadata?.name} routes to a port Service ${svc.metadata?.name} does not have`);
    }
  }
  // Each Ingress routing to the same Service finds its ports once.
  return [...new Set(findings)];
}

const sources: [string, () => Obj[]][] = [['files listed by k8s/kustomization.yaml', renderFromFiles]];
if (kubectlAvailable()) sources.unshift(['kubectl kustomize k8s', renderWithKubectl]);

describe.each(sources)('k8s manifests (%s)', (_source, render) => {
  const all = render();
  const deployments = all.filter((o) => o.kind === 'Deployment');

  it('has the services (and nothing without a name)', () => {
    expect(deployments.map((d) => d.metadata?.name)).toEqual(expect.arrayContaining(['gateway', 'contractors', 'documents', 'interactions']));
    expect(deployments.filter(isGateway)).toHaveLength(1);
  });

  it.each(deployments.map((d) => [d.metadata?.name as string, d]))(
    'Deployment %s: probes on /health/*, requests and limits, non-root and read-only, a PDB, an HPA',
    (_name, d) => {
      expect(deploymentFindings(d, all)).toEqual([]);
    },
  );

  it.each(deployments.filter((d) => !isGateway(d)).map((d) => [d.metadata?.name as string, d]))('Deployment %s: only the gateway reaches it', (_name, d) => {
    expect(networkFindings(d, all)).toEqual([]);
  });

  it('routes the public Ingress to the gateway Service, which exposes only the public port', () => {
    expect(publicRouteFindings(all)).toEqual([]);
  });
});

describe('the policy checks themselves', () => {
  const all = renderFromFiles();
  const deployment = (name: string) => all.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!;
  const clone = <T>(v: T): T => structuredClone(v);

  it('finds a missing probe, resource, security setting, PDB and HPA', () => {
    const d = clone(deployment('contractors'));
    const c = d.spec.template.spec.containers[0];
    delete c.readinessProbe;
    c.livenessProbe.httpGet.path = '/';
    delete c.resources.limits.memory;
    c.securityContext.readOnlyRootFilesystem = false;
    d.spec.template.spec.securityContext.runAsNonRoot = false;
    d.spec.template.metadata.labels = { 'app.kubernetes.io/name': 'renamed' };
    d.metadata.name = 'renamed';
    expect(deploymentFindings(d, all)).toEqual([
      'container contractors: livenessProbe is not an httpGet on /health/live',
      'container contractors: readinessProbe is not an httpGet on /health/ready',
      'container migrate: runAsNonRoot is not true (pod or container securityContext)',
      'container contractors: no resources.limits.memory',
      'container contractors: runAsNonRoot is not true (pod or container securityContext)',
      'container contractors: readOnlyRootFilesystem is not true',
      '0 PodDisruptionBudgets select its pods (want exactly 1)',
      '0 HorizontalPodAutoscalers target it (want exactly 1, or the papka.io/autoscaling annotation)',
    ]);
  });

  it('accepts a singleton only with a reason', () => {
    const d = clone(deployment('contractors'));
    d.metadata.name = 'singleton';
    d.spec.replicas = 1;
    d.metadata.annotations = { [NO_AUTOSCALING]: 'none: one scheduler per cluster' };
    expect(deploymentFindings(d, all)).toEqual([]);
    d.metadata.annotations = { [NO_AUTOSCALING]: 'no' };
    expect(deploymentFindings(d, all)).toEqual([`${NO_AUTOSCALING} must read "none: <why it must not scale>"`]);
  });

  it('finds a service any pod can reach, or one the gateway cannot', () => {
    const d = deployment('documents');
    const withoutPolicies = all.filter((o) => o.kind !== 'NetworkPolicy');
    expect(networkFindings(d, withoutPolicies)).toEqual(['no NetworkPolicy restricts ingress to its pods']);
    const open = { kind: 'NetworkPolicy', metadata: { name: 'open', namespace: 'papka' }, spec: { podSelector: {}, ingress: [{}] } };
    expect(networkFindings(d, [...all, open])).toEqual([
      'NetworkPolicy open: a rule without ports opens every port',
      'NetworkPolicy open: a rule without "from" lets every pod in',
    ]);
    const fromNamespace = {
      kind: 'NetworkPolicy',
      metadata: { name: 'ns', namespace: 'papka' },
      spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 'http' }] }] },
    };
    expect(networkFindings(d, [...all, fromNamespace])).toEqual(['NetworkPolicy ns: a peer other than the gateway\'s pods: {"namespaceSelector":{}}']);
    const denyAll = { kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'papka' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } };
    expect(networkFindings(d, [...withoutPolicies, denyAll])).toEqual(['the gateway may not reach port http of Service documents']);
    const scraping = {
      kind: 'NetworkPolicy',
      metadata: { name: 'scrape', namespace: 'papka' },
      spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 'metrics' }] }] },
    };
    const withMetrics = clone(d);
    const ports = withMetrics.spec.template.spec.containers[0].ports as Obj[];
    if (!ports.some((p) => p.name === METRICS_PORT)) ports.push({ name: METRICS_PORT, containerPort: 9464 });
    expect(networkFindings(withMetrics, [...all.filter((o) => o !== d), withMetrics, scraping])).toEqual([]);
  });

  it('finds a second port on the public Service', () => {
    const svc = clone(all.find((o) => o.kind === 'Service' && o.metadata.name === 'gateway')!);
    svc.spec.ports.push({ name: 'metrics', port: 9464, targetPort: 'metrics' });
    expect(publicRouteFindings([...all.filter((o) => !(o.kind === 'Service' && o.metadata.name === 'gateway')), svc])).toEqual([
      `Service gateway exposes more than the public port "http": ${JSON.stringify(svc.spec.ports)}`,
    ]);
  });
});

/** `a=b` settings as a map. */
const settings = (pairs: string[]) => Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));

describe('k8s/optional/kafka-topics.yaml', () => {
  const topics = loadAll(readFileSync(path.join(K8S, 'optional', 'kafka-topics.yaml'), 'utf8')).filter((o) => o.kind === 'KafkaTopic');

  it('lists exactly the topics of allTopics()', () => {
    expect(topics.map((t) => (t.spec?.topicName ?? t.metadata?.name) as string).sort()).toEqual([...allTopics()].sort());
  });

  it('creates each with the settings of topicConfig()', () => {
    for (const t of topics) {
      const name = (t.spec?.topicName ?? t.metadata?.name) as string;
      const config = Object.fromEntries(Object.entries((t.spec?.config ?? {}) as Obj).map(([k, v]) => [k, String(v)]));
      expect({ name, config }).toEqual({ name, config: expect.objectContaining(topicConfig(name)) });
    }
  });
});

/**
 * Runs kafka-init's script in bash with kafka-topics.sh replaced by a function that prints what
 * `--create` would create: whatever shape its loop takes, this is the list of topics it makes.
 */
function composeCreatedTopics(service: Obj): { topic: string; config: Record<string, string> }[] {
  const entrypoint = ([] as string[]).concat(service.entrypoint ?? []);
  const command = ([] as string[]).concat(service.command ?? []);
  const script = entrypoint.some((e) => /(^|\/)(ba)?sh$/.test(e)) ? command.join('\n') : [...entrypoint, ...command].join(' ');
  const stub = `
    kafka_topics_stub() {
      local create=0 topic="" configs=()
      while [ $# -gt 0 ]; do
        case "$1" in
          --create) create=1 ;;
          --topic) topic="$2"; shift ;;
          --topic=*) topic="\${1#--topic=}" ;;
          --config) configs+=("$2"); shift ;;
        esac
        shift
      done
      if [ "$create" = 1 ]; then printf '%s' "$topic"; printf '\\t%s' "\${configs[@]}"; printf '\\n'; fi
    }
  `;
  // Compose turns $$ into a literal $ before the shell sees the script.
  const body = script.replace(/\$\$/g, '$').replace(/\S*kafka-topics\.sh/g, 'kafka_topics_stub');
  const out = execFileSync('bash', ['-c', `${stub}\n${body}`], { encoding: 'utf8', timeout: 10_000, env: { PATH: process.env.PATH } });
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [topic, ...configs] = line.split('\t');
      return { topic: topic!, config: settings(configs.filter(Boolean)) };
    });
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as Obj;
  const services = (compose.services ?? {}) as Record<string, Obj>;
  const deployed = renderFromFiles().filter((o) => o.kind === 'Deployment');
  const deployments = deployed.map((d) => d.metadata.name as string);

  it.each(deployments)('runs %s (every Deployment of k8s), health-checked on /health/ready', (name) => {
    expect(Object.keys(services)).toContain(name);
    expect(JSON.stringify(services[name]!.healthcheck?.test ?? '')).toContain('/health/ready');
  });

  it('creates every topic of allTopics() in kafka-init, with the settings of topicConfig()', () => {
    const init = services['kafka-init'];
    expect(init).toBeDefined();
    const created = composeCreatedTopics(init!);
    expect(created.map((c) => c.topic).sort()).toEqual([...allTopics()].sort());
    for (const { topic, config } of created) expect({ topic, config }).toEqual({ topic, config: expect.objectContaining(topicConfig(topic)) });
  });

  it.each(deployments)('gives %s the grace period of its k8s pods to stop', (name) => {
    const seconds = (d: Obj) => d.spec?.template?.spec?.terminationGracePeriodSeconds ?? 30; // k8s default
    const grace = String(services[name]!.stop_grace_period ?? '10s'); // compose default
    const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(grace);
    expect({ name, seconds: m ? Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) : grace }).toEqual({ name, seconds: seconds(deployed.find((d) => d.metadata.name === name)!) });
  });

  it('reads what a kafka-init script creates, whatever its loop looks like', () => {
    const script = [
      'set -euo pipefail',
      'for t in a b; do /opt/kafka/bin/kafka-topics.sh --bootstrap-server kafka:9092 --create --if-not-exists --topic "papka.$${t}.v1" --config retention.ms=1; done',
      '/opt/kafka/bin/kafka-topics.sh --bootstrap-server kafka:9092 --list',
    ].join('\n');
    expect(composeCreatedTopics({ entrypoint: ['/bin/bash', '-c'], command: [script] })).toEqual([
      { topic: 'papka.a.v1', config: { 'retention.ms': '1' } },
      { topic: 'papka.b.v1', config: { 'retention.ms': '1' } },
    ]);
  });

  it('starts every service only after kafka-init created the topics', () => {
    for (const name of deployments.filter((n) => services[n]?.environment?.EVENT_BUS !== undefined || services[n]?.environment?.KAFKA_BROKERS !== undefined)) {
      expect({ name, dependsOn: services[name]!.depends_on?.['kafka-init'] }).toEqual({ name, dependsOn: { condition: 'service_completed_successfully' } });
    }
  });
});
