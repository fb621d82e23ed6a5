// Package teach teaches a classifier pack new taxa from labelled crops (a person's
// validated crops in the session store, a `path,label` list, a folder of labelled
// crops or an EcoTaxa export) and saves the result as a new pack folder that any
// phytoscreen loads.
//
// # The head
//
// The taught pack's models output
//
//	softmax([ log p_old(x) ; W f(x) + b ])
//
// where p_old are the pack's own probabilities (fixed), f(x) the pack's features output
// (format 2) and W, b one row per new taxon. Among the old classes the order of the
// probabilities is the pack's: a crop keeps its old label unless a new taxon's score beats
// the old model's best log-probability, so new taxa cannot wreck the old classes (the
// issue allows two points of loss) the way a full refit on a few hundred crops could.
// W and b are fitted by L2-regularised multinomial logistic regression with the old
// log-probabilities as fixed offsets (gonum/optimize's L-BFGS over gonum/mat products),
// on the features standardised over the training crops (the scaling is folded into W and
// b when the head is written). The negatives are every crop labelled with a taxon the
// pack already has: the reviewed crops that carry old labels, and a reference sample of
// the old classes, the bundled NDSB val sample (assets.Samples, 387 crops) for the NDSB
// packs. They weigh, in all, at least as much as the new taxa's crops. A pack without a
// reference sample (the cyanobacteria pack ships none) learns its negatives from the
// old-label crops given with the new ones only; with fewer than MinNegatives of them
// Teach refuses and says how many more are needed, because a head with no negatives
// learns to call everything new. The more of them, the less the old classes lose: in the
// issue's test (TestTaughtTaxaReachHeldOut) 93 of the cyanobacteria pack's tiles as
// negatives cost its own classes 3 to 4 points of top-1, its 1,657 training tiles half a
// point.
//
// What teaching can reach depends on the embedding. The cyanobacteria pack taught the five
// most numerous NDSB taxa from 20 crops each calls 0.89 (base) and 0.85 (optimised) of
// their NDSB val images right. The NDSB v2 pack taught the five folders of whole frames of
// a low-cost bench camera (data/microscope-frames) from 20 frames each, spread over the
// first half of each folder, calls 0.49 (base) and 0.54 (optimised) of the frames in the
// last 40% right: neither pack's embedding separates those frames well (the best plain
// head on cyano-tcb-10's features reaches 0.55 there).
//
// Relabels among the old taxa (a crop the pack called A that a person calls B, both the
// pack's) are not learned: with the offsets fixed, an old label only says "not a new
// taxon". They still count as negatives, and the report shows how the taught pack calls
// them.
//
// # Both models
//
// The base and optimised models have their own features (an int8 twin's are close to the
// base's, a pruned student's are shorter: ModelSpec.FeaturesDim), so each gets its own
// head fitted on its own features; the head is appended to each ONNX graph as nodes (Max,
// Log, Gemm, Concat, Softmax) through internal/onnxpb.
//
// # Checks before saving
//
// Every taught label needs MinPerClass crops (stratified 5-fold cross-validation needs
// one per fold); a class with fewer is refused with how many more it needs. The report
// is cross-validated (stratified k-fold over the taught crops and the reference sample
// together, every crop predicted by a head that never saw it): per-class recall and
// precision, the old pack's top-1 against the taught pack's on the held-out old-class
// crops (what teaching costs the old classes), and for each taught label the labels the
// old pack gave the same crops. The L2 strength is chosen from a small grid by the same
// folds' log-loss (so the reported figures are a little optimistic, by at most the
// grid's choice). Crops that are near copies of each other (embeddings at cosine
// 0.985 or more: one cell cut from a frame and from a re-saved copy of it, or seen in
// two frames) share a fold, so that a copy never tests its twin; the report says how
// many there were.
//
// # Choosing the pack
//
// ChoosePack scores candidate packs by how well their embedding transfers to the crops
// at hand: the cross-validated macro-F1 of a plain L2 logistic regression on each
// pack's base features over the taught labels. Installed lists the built-in packs that
// have features.
//
// # For the app
//
// The Gallery's "Teach from reviewed crops" is one call and its results:
//
//	ex, err := teach.FromStore(ctx, st)             // the validated crops
//	t, err := teach.Teach(ctx, pack, ex, teach.Options{Cache: st}, progress)
//	t.Report.Write(w, false)                        // or read t.Report's figures
//	saved, err := t.Save(dir)                       // the new pack folder, loaded back
//	cmp, err := teach.Compare(ctx, pack, saved, variant, ex, teach.Options{}, progress)
//
// Teach stops when ctx is cancelled and reports each stage's progress; it writes nothing
// but the cache. ChoosePack ranks candidate packs first when the user has no preference.
//
// # Cache
//
// Embeddings are keyed by the model (pack, variant and the SHA-256 of its file) and the
// crop (a store object's ID, or the SHA-256 of an image file's bytes), and kept in the
// session store (Cache), so teaching again on the same crops reads them instead of
// running the model.
package teach
