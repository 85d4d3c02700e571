import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useParams } from 'react-router-dom';
import { useCase, useMe } from '../api/queries';
import { errorMessage } from '../api/errors';
import type { VerdictValue } from '../api/types';
import { hasRole } from '../auth/session';
import { Viewer, type MaskStatus, type Readout, type ViewerHandle, type WindowState } from '../components/Viewer';
import { ScanControls } from '../components/ScanControls';
import { RunsPanel } from '../components/RunsPanel';
import { DeleteCasePanel } from '../components/DeleteCasePanel';
import { loadMaskMode, saveMaskMode, type MaskMode } from '../lib/labelMask';
import { FlagList } from '../components/FlagList';
import { HelpOverlay } from '../components/HelpOverlay';
import { OverlayControls } from '../components/OverlayControls';
import { CaseBar, CaseLoadError } from '../components/CaseBar';
import { ChecksOnlyNotice, isChecksOnly } from '../components/ChecksOnlyNotice';
import { QualityNotice } from '../components/QualityNotice';
import { ModelValidationPanel } from '../components/ModelValidationPanel';
import { CrosshairReadout } from '../components/CrosshairReadout';
import { ResultSummary } from '../components/ResultSummary';
import { ScanPanel } from '../components/ScanPanel';
import { CaseVerdictPanel } from '../components/CaseVerdictPanel';
import { FindingsPanel } from '../components/FindingsPanel';
import { WeakRegions } from '../components/WeakRegions';
import { actionForKey, stepIndex, type KeyAction } from '../lib/keymap';
import { loadOverlay, saveOverlay, type OverlaySettings } from '../lib/overlay';
import { hasResult } from '../lib/format';
import { useCaseSession } from '../lib/useCaseSession';
import { NotFound } from './NotFound';
import { worklistAddress } from '../lib/worklistMemory';
import { isDbId } from '../lib/apiBounds';
import { useCaseNeighbours } from '../lib/useCaseNeighbours';
import { useFlagVerdicts } from '../lib/useFlagVerdicts';
import { useCaseNotice } from '../lib/caseNotice';
import { LiveNotice } from '../components/LiveNotice';
import { AnalysisFailedNotice } from '../components/AnalysisFailedNotice';

export default function CasePage() {
  const { id } = useParams();
  const me = useMe();
  const caseId = Number(id);
  // an id the API would refuse (0, 2.5, beyond its 32-bit ids) names no case
  if (!isDbId(caseId)) return <NotFound />;
  // the page sits behind RequireAuth, so this is the signed-in user; wait for it, since the roles and the
  // reader's drafts are read once when the case view mounts
  if (!me.data) {
    return (
      <main className="page">
        <p className="muted">Loading case…</p>
      </main>
    );
  }
  return (
    <CaseView
      key={caseId}
      caseId={caseId}
      user={me.data.username}
      canReview={hasRole(me.data, 'clinician')}
      canRerun={hasRole(me.data, 'clinician', 'coordinator')}
      canDelete={hasRole(me.data, 'coordinator')}
    />
  );
}

function CaseView({
  caseId,
  user,
  canReview,
  canRerun,
  canDelete,
}: {
  caseId: number;
  user: string;
  canReview: boolean;
  canRerun: boolean;
  /** coordinators may delete the case */
  canDelete: boolean;
}) {
  const session = useCaseSession(caseId, canReview);
  const claim = session.claim;
  const query = useCase(caseId);
  const viewerRef = useRef<ViewerHandle>(null);
  const markRef = useRef<(() => void) | null>(null);

  const [selected, setSelected] = useState(-1);
  const [overlay, setOverlayState] = useState<OverlaySettings>(() => loadOverlay());
  const [render3d, setRender3d] = useState(false);
  const [help, setHelp] = useState(false);
  const [readout, setReadout] = useState<Readout | null>(null);
  const { notice, serial: noticeSerial, setNotice, setRunNotice } = useCaseNotice(caseId);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [maskMode, setMaskModeState] = useState<MaskMode>(() => loadMaskMode());
  const [maskStatus, setMaskStatus] = useState<MaskStatus>('none');
  const [windowState, setWindowState] = useState<WindowState | null>(null);
  const [claimError, setClaimError] = useState<string | null>(null);
  const neighbours = useCaseNeighbours(caseId, setNotice);
  const stepCase = neighbours.step;
  const backToWorklist = worklistAddress();

  const setMaskMode = useCallback((m: MaskMode) => {
    setMaskModeState(m);
    saveMaskMode(m);
  }, []);

  async function releaseClaim() {
    setClaimError(null);
    try {
      await session.release();
      setNotice('Claim released');
    } catch (e) {
      setClaimError(`Claim not released: ${errorMessage(e)}`);
    }
  }

  const c = query.data;
  const flags = useMemo(() => c?.flags ?? [], [c]);
  const {
    reasons,
    setReasons,
    restoredReasonFlags,
    saveVerdict: saveFlagVerdict,
    saveReason,
    savingFlagId,
    waitingForConnection,
  } = useFlagVerdicts({
    caseId, c, user, canReview, onNotice: setNotice, onError: setSaveError,
  });
  // The newest successful run's result stays in view while a re-run is pending, failed or cancelled.
  const showResult = !!c && hasResult(c);
  // a checks-only result (no model reads the sequence) has no maps, flags or weak regions to show
  const checksOnly = !!c && isChecksOnly(c);
  const showMaps = showResult && !checksOnly;

  useEffect(() => {
    document.title = c ? `${c.label} · NeuroTriage` : 'Case · NeuroTriage';
  }, [c]);

  const setOverlay = useCallback((next: OverlaySettings) => {
    setOverlayState(next);
    saveOverlay(next);
  }, []);

  const selectFlag = useCallback(
    (i: number) => {
      setSelected(i);
      const f = flags[i];
      // the anchor lies in the flag itself; a curved flag's centroid may not (older results have no anchor)
      if (f) viewerRef.current?.gotoMM(f.anchor_mm ?? f.centroid_mm);
      // said in the status line too: a keyboard or screen-reader user sees nothing else change (and no stale hint)
      if (f) setNotice(`Flag ${f.label} of ${flags.length} selected`);
    },
    [flags, setNotice],
  );

  // a verdict on another flag selects it and moves the viewer there, as "Go to flag" does
  const saveVerdict = useCallback(
    async (i: number, verdict: VerdictValue) => {
      if (i !== selected && flags[i]) selectFlag(i);
      await saveFlagVerdict(i, verdict);
    },
    [selected, flags, selectFlag, saveFlagVerdict],
  );

  const runAction = useCallback(
    (a: KeyAction): boolean => {
      switch (a) {
        case 'accept':
        case 'reject':
        case 'unsure':
          if (!canReview) {
            setNotice('Only clinicians record verdicts');
            return true;
          }
          if (selected < 0 || !flags[selected]) {
            setSaveError(null);
            setNotice(
              flags.length
                ? 'Select a flag first (N / P)'
                : checksOnly
                  ? 'No lesion search ran on this case: nothing to accept or reject'
                  : 'This case has no flags',
            );
            return true;
          }
          void saveVerdict(selected, a);
          return true;
        case 'nextFlag':
        case 'prevFlag': {
          const i = stepIndex(selected, flags.length, a === 'nextFlag' ? 1 : -1);
          if (i >= 0) selectFlag(i);
          return true;
        }
        case 'nextCase':
          stepCase(1);
          return true;
        case 'prevCase':
          stepCase(-1);
          return true;
        case 'toggleOverlay':
          if (!showMaps) {
            setNotice('This case has no anomaly map to show or hide');
            return true;
          }
          setOverlay({ ...overlay, visible: !overlay.visible });
          return true;
        case 'toggle3d':
          setRender3d((r) => !r);
          return true;
        case 'markFinding':
          if (!markRef.current) return false;
          markRef.current();
          return true;
        case 'sliceUp':
          viewerRef.current?.stepSlice(1);
          return true;
        case 'sliceDown':
          viewerRef.current?.stepSlice(-1);
          return true;
        case 'toggleHelp':
          setHelp((h) => !h);
          return true;
        case 'closeHelp':
          if (help) {
            setHelp(false);
            return true;
          }
          return false;
      }
    },
    [canReview, checksOnly, showMaps, selected, flags, saveVerdict, selectFlag, stepCase, overlay, setOverlay, help],
  );

  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (e.defaultPrevented || e.isComposing) return;
      const a = actionForKey(e);
      if (!a) return;
      if (help && a !== 'closeHelp' && a !== 'toggleHelp') return;
      // also on the focused image: NiiVue moves frames with ← / → but leaves ↑ / ↓ and PageUp / PageDown unused
      if (runAction(a)) e.preventDefault();
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [runAction, help]);

  if (query.isPending) {
    return (
      <main className="page">
        <p className="muted">Loading case…</p>
      </main>
    );
  }
  if (query.isError || !c) {
    const retry = () => void query.refetch();
    return <CaseLoadError error={query.error} onRetry={retry} backTo={backToWorklist} neighbours={neighbours} />;
  }
  // beside the disabled overlay controls: they do nothing without a map, and a reader should know it is not a fault
  const noMapReason = showMaps
    ? undefined
    : checksOnly
      ? 'No anomaly map: not screened for lesions'
      : c.status === 'failed' || c.status === 'cancelled'
        ? 'No anomaly map: the analysis did not finish'
        : 'No anomaly map until the analysis finishes';

  return (
    <main className="case-page" aria-labelledby="case-title">
      <CaseBar
        c={c}
        backTo={backToWorklist}
        session={session}
        onRelease={() => void releaseClaim()}
        neighbours={neighbours}
        onHelp={() => setHelp(true)}
      />

      <ChecksOnlyNotice c={c} />
      <QualityNotice issues={c.quality ?? []} />
      {c.status === 'failed' && <AnalysisFailedNotice c={c} canRerun={canRerun} />}
      {claim.kind === 'other' && <div className="info-box case-error">{claim.message} You can look; your verdicts may conflict.</div>}
      {neighbours.error && (
        <div className="error-box case-error" role="alert">
          {neighbours.error}
        </div>
      )}
      {claimError && (
        <div className="error-box case-error" role="alert">
          {claimError}
        </div>
      )}
      {claim.kind === 'error' && <div className="info-box case-error">Could not claim this case: {claim.message}</div>}
      {c.status === 'cancelled' && <div className="error-box case-error">The analysis was cancelled.</div>}

      <div className="case-body">
        <section className="viewer-col" aria-label="Images">
          <OverlayControls
            value={overlay}
            onChange={setOverlay}
            disabled={!showMaps}
            disabledReason={noMapReason}
            render3d={render3d}
            onToggle3d={() => setRender3d((r) => !r)}
          />
          <ScanControls
            windowState={windowState}
            onWindowLevel={(wl) => viewerRef.current?.setWindowLevel(wl)}
            onResetWindow={() => viewerRef.current?.resetWindow()}
            maskMode={maskMode}
            onMaskMode={setMaskMode}
            maskStatus={maskStatus}
            maskAvailable={showMaps && flags.length > 0}
            noMaskText={checksOnly ? 'no lesion search' : undefined}
          />
          <Viewer
            // a re-run that succeeds brings new volumes at the same addresses: load them afresh
            key={c.result_run_id ?? 'no-result'}
            ref={viewerRef}
            withMask={showMaps && flags.length > 0}
            maskMode={maskMode}
            selectedLabel={flags[selected]?.label ?? null}
            onWindow={setWindowState}
            onMaskStatus={setMaskStatus}
            caseId={c.id}
            withOverlay={showMaps}
            scanOnly={checksOnly}
            overlay={overlay}
            render3d={render3d}
            onLocation={setReadout}
          />
          <CrosshairReadout readout={readout} />
        </section>

        <aside className="side-col" aria-label="Review">
          <section className="panel flags-panel" aria-labelledby="flags-title">
            <div className="panel-title-row">
              <h2 id="flags-title">Flags</h2>
              {showMaps && (
                <span className="muted small" data-testid="flags-reviewed">
                  {canReview
                    ? `${flags.filter((f) => f.verdict).length}/${flags.length} reviewed by you`
                    : `${flags.filter((f) => (f.other_verdicts?.length ?? 0) > 0).length}/${flags.length} reviewed by readers`}
                </span>
              )}
            </div>
            <LiveNotice className="save-status" text={notice} serial={noticeSerial} />
            {saveError && (
              <div className="error-box" role="alert">
                {saveError}
              </div>
            )}
            {restoredReasonFlags.length > 0 && (
              <p className="info-box small draft-note" data-testid="reasons-draft">
                Restored your unsaved {restoredReasonFlags.length === 1 ? 'reason' : 'reasons'} for flag{' '}
                {restoredReasonFlags.map((f) => f.label).join(', ')}: not saved yet.
              </p>
            )}
            {checksOnly ? (
              <p className="muted">No flags: no lesion search ran on this scan (rescan checks only).</p>
            ) : showResult ? (
              <FlagList
                flags={flags}
                selected={selected}
                savingFlagId={savingFlagId}
                reasons={reasons}
                onSelect={selectFlag}
                onVerdict={(i, v) => void saveVerdict(i, v)}
                onReason={(flagId, r) => setReasons((prev) => ({ ...prev, [flagId]: r }))}
                onReasonCommit={(flagId) => void saveReason(flagId)}
                labelledBy="flags-title"
                canReview={canReview}
                minFlagMl={c.min_flag_ml}
                earlierRunVerdicts={c.earlier_run_verdicts}
                waitingForConnection={waitingForConnection}
              />
            ) : (
              <p className="muted">
                {c.status === 'failed' || c.status === 'cancelled'
                  ? 'No flags: the analysis did not finish.'
                  : 'Flags appear when the analysis has finished.'}
              </p>
            )}
          </section>
          {showMaps && <WeakRegions c={c} onGoto={(mm) => viewerRef.current?.gotoMM(mm)} />}
          {showMaps && <ModelValidationPanel c={c} />}
          {showResult && <CaseVerdictPanel c={c} canReview={canReview} onNotice={setNotice} draftUser={canReview ? user : null} />}
          {showResult && (
            <FindingsPanel
              c={c}
              canReview={canReview}
              user={user}
              crosshair={readout}
              onGoto={(mm) => viewerRef.current?.gotoMM(mm)}
              markRef={markRef}
              onNotice={setNotice}
            />
          )}
          <ResultSummary c={c} />
          <ScanPanel c={c} />
          <RunsPanel c={c} canRerun={canRerun} onNotice={setRunNotice} />
          {canDelete && <DeleteCasePanel c={c} />}
        </aside>
      </div>
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
    </main>
  );
}
